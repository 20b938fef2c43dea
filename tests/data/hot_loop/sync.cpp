// Fixture for tools/check_hot_loop.sh: a .item() inside the hot region.
void loop(at::Tensor x) {
  // HOT LOOP BEGIN
  x.add_(1);
  if (x.sum().item<float>() > 0) x.zero_();
  // HOT LOOP END
  float fine_outside = x.sum().item<float>();
}
