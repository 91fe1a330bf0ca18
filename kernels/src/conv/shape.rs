//! Shapes of a convolution and of a transposed convolution, with their checks.

/// Shape of a 2-D convolution on NCHW tensors: x (N, Cin, H, W), w (Cout, Cin, KH, KW),
/// y (N, Cout, OH, OW) with `OH = (H + 2·pad_h − KH) / stride_h + 1` (same for W).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dShape {
    /// N, the number of images.
    pub batch: usize,
    /// Cin.
    pub in_channels: usize,
    /// H.
    pub in_h: usize,
    /// W.
    pub in_w: usize,
    /// Cout.
    pub out_channels: usize,
    /// KH.
    pub kernel_h: usize,
    /// KW.
    pub kernel_w: usize,
    /// Vertical stride (≥ 1).
    pub stride_h: usize,
    /// Horizontal stride (≥ 1).
    pub stride_w: usize,
    /// Zero rows added above and below.
    pub pad_h: usize,
    /// Zero columns added left and right.
    pub pad_w: usize,
}

impl Conv2dShape {
    /// Output height `(H + 2·pad_h − KH) / stride_h + 1` (call [`validate`](Self::validate) first).
    pub fn out_h(&self) -> usize {
        (self.in_h + 2 * self.pad_h - self.kernel_h) / self.stride_h + 1
    }

    /// Output width `(W + 2·pad_w − KW) / stride_w + 1`.
    pub fn out_w(&self) -> usize {
        (self.in_w + 2 * self.pad_w - self.kernel_w) / self.stride_w + 1
    }

    /// Forward FLOPs: 2·N·Cout·OH·OW·Cin·KH·KW.
    pub fn flops_forward(&self) -> u64 {
        2 * (self.batch * self.out_channels * self.out_h() * self.out_w()) as u64
            * (self.in_channels * self.kernel_h * self.kernel_w) as u64
    }

    /// Checks that every size and stride is positive and the kernel fits the padded input.
    pub fn validate(&self) -> Result<(), String> {
        let dims = [
            ("in_channels", self.in_channels),
            ("in_h", self.in_h),
            ("in_w", self.in_w),
            ("out_channels", self.out_channels),
            ("kernel_h", self.kernel_h),
            ("kernel_w", self.kernel_w),
            ("stride_h", self.stride_h),
            ("stride_w", self.stride_w),
        ];
        for (name, v) in dims {
            if v == 0 {
                return Err(format!("conv2d: {name} must be positive"));
            }
        }
        if self.kernel_h > self.in_h + 2 * self.pad_h || self.kernel_w > self.in_w + 2 * self.pad_w
        {
            return Err(format!(
                "conv2d: kernel {}x{} larger than padded input {}x{}",
                self.kernel_h,
                self.kernel_w,
                self.in_h + 2 * self.pad_h,
                self.in_w + 2 * self.pad_w
            ));
        }
        Ok(())
    }

    /// Cin·KH·KW: rows of the im2col matrix, columns of the weight matrix.
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel_h * self.kernel_w
    }

    /// Elements of one input image (Cin·H·W).
    pub fn in_image_len(&self) -> usize {
        self.in_channels * self.in_h * self.in_w
    }

    /// Elements of one output image (Cout·OH·OW).
    pub fn out_image_len(&self) -> usize {
        self.out_channels * self.out_h() * self.out_w()
    }
}

/// Shape of a transposed convolution (PyTorch `ConvTranspose2d`): x (N, Cin, H, W),
/// w (Cin, Cout, KH, KW), y (N, Cout, OH, OW) with
/// `OH = (H − 1)·stride_h − 2·pad_h + KH + output_pad_h` (same for W).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dShape {
    /// N, the number of images.
    pub batch: usize,
    /// Cin (channels of x).
    pub in_channels: usize,
    /// H.
    pub in_h: usize,
    /// W.
    pub in_w: usize,
    /// Cout (channels of y).
    pub out_channels: usize,
    /// KH.
    pub kernel_h: usize,
    /// KW.
    pub kernel_w: usize,
    /// Vertical stride (≥ 1).
    pub stride_h: usize,
    /// Horizontal stride (≥ 1).
    pub stride_w: usize,
    /// Rows cropped from the top and bottom of the full output.
    pub pad_h: usize,
    /// Columns cropped from the left and right of the full output.
    pub pad_w: usize,
    /// Extra rows at the bottom of the output (< stride_h).
    pub output_pad_h: usize,
    /// Extra columns at the right of the output (< stride_w).
    pub output_pad_w: usize,
}

impl ConvTranspose2dShape {
    /// Output height `(H − 1)·stride_h − 2·pad_h + KH + output_pad_h`.
    pub fn out_h(&self) -> usize {
        (self.in_h - 1) * self.stride_h + self.kernel_h + self.output_pad_h - 2 * self.pad_h
    }

    /// Output width `(W − 1)·stride_w − 2·pad_w + KW + output_pad_w`.
    pub fn out_w(&self) -> usize {
        (self.in_w - 1) * self.stride_w + self.kernel_w + self.output_pad_w - 2 * self.pad_w
    }

    /// Forward FLOPs: 2·N·Cin·H·W·Cout·KH·KW.
    pub fn flops_forward(&self) -> u64 {
        2 * (self.batch * self.in_channels * self.in_h * self.in_w) as u64
            * (self.out_channels * self.kernel_h * self.kernel_w) as u64
    }

    /// Checks positivity, `output_pad < stride` (as PyTorch) and a positive output size.
    pub fn validate(&self) -> Result<(), String> {
        let dims = [
            ("in_channels", self.in_channels),
            ("in_h", self.in_h),
            ("in_w", self.in_w),
            ("out_channels", self.out_channels),
            ("kernel_h", self.kernel_h),
            ("kernel_w", self.kernel_w),
            ("stride_h", self.stride_h),
            ("stride_w", self.stride_w),
        ];
        for (name, v) in dims {
            if v == 0 {
                return Err(format!("conv_transpose2d: {name} must be positive"));
            }
        }
        if self.output_pad_h >= self.stride_h || self.output_pad_w >= self.stride_w {
            return Err(format!(
                "conv_transpose2d: output padding ({}, {}) must be smaller than the stride ({}, {})",
                self.output_pad_h, self.output_pad_w, self.stride_h, self.stride_w
            ));
        }
        let full_h = (self.in_h - 1) * self.stride_h + self.kernel_h + self.output_pad_h;
        let full_w = (self.in_w - 1) * self.stride_w + self.kernel_w + self.output_pad_w;
        if full_h <= 2 * self.pad_h || full_w <= 2 * self.pad_w {
            return Err(format!(
                "conv_transpose2d: padding ({}, {}) leaves no output of the full {}x{}",
                self.pad_h, self.pad_w, full_h, full_w
            ));
        }
        Ok(())
    }

    /// The convolution whose backward-data is this transposed convolution's forward:
    /// input (N, Cout, OH, OW), output (N, Cin, H, W), weight (Cin, Cout, KH, KW) — the
    /// same memory layout as this shape's weight.
    pub fn adjoint(&self) -> Conv2dShape {
        Conv2dShape {
            batch: self.batch,
            in_channels: self.out_channels,
            in_h: self.out_h(),
            in_w: self.out_w(),
            out_channels: self.in_channels,
            kernel_h: self.kernel_h,
            kernel_w: self.kernel_w,
            stride_h: self.stride_h,
            stride_w: self.stride_w,
            pad_h: self.pad_h,
            pad_w: self.pad_w,
        }
    }
}
