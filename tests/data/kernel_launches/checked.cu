// Fixture for tools/check_kernel_launches.sh: every launch is checked.
__global__ void k(int n) {}
void good(cudaStream_t s) {
  k<<<1, 32, 0, s>>>(1);
  // A comment between the launch and its check is fine.
  VECSAC_CUDA_CHECK(cudaGetLastError());
}
