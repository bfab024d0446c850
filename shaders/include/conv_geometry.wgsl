// A convolution's geometry, as override constants: a pipeline per kernel size, stride and padding
// (sizes are uniforms, so a new input size reuses them).
override KH: u32 = 3u;
override KW: u32 = 3u;
override STRIDE: u32 = 1u;
override PAD: u32 = 1u;
