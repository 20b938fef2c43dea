// Fixture for tools/check_kernel_launches.sh: the second launch is unchecked.
__global__ void k(int n) {}
void good(cudaStream_t s) {
  k<<<1, 32, 0, s>>>(
      1);
  VECSAC_CUDA_CHECK(cudaGetLastError());
}
void bad(cudaStream_t s) {
  k<<<1, 32, 0, s>>>(1);
  cudaStreamSynchronize(s);
}
