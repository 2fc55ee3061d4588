/// Sub-pixel rearrangement: `[N, C·r², H, W] → [N, C, H·r, W·r]`.
///
/// Reproduces `torch.nn.functional.pixel_shuffle` (the default, ncnn PixelShuffle mode 0):
/// output channel `c` at sub-position `(i, j)` reads input channel `c·r² + i·r + j`.
/// With `subpixelMajor` it reads channel `(i·r + j)·C + c` instead (ncnn PixelShuffle mode 1,
/// Tencent/ncnn src/layer/pixelshuffle.cpp).
extension Tensor {
  public func pixelShuffled(_ r: Int, subpixelMajor: Bool = false) -> Tensor {
    precondition(rank == 4 && r >= 1, "pixelShuffled: expects NCHW and r ≥ 1, got \(shape), r \(r)")
    let (n, cIn, h, w) = (shape[0], shape[1], shape[2], shape[3])
    precondition(cIn % (r * r) == 0, "pixelShuffled: \(cIn) channels are not a multiple of \(r * r)")
    let c = cIn / (r * r)
    let (outH, outW) = (h * r, w * r)
    return Tensor(shape: [n, c, outH, outW]) { out in  // [N, C, H·r, W·r]
      withUnsafeBufferPointer { src in
        let s = src.baseAddress!, o = out.baseAddress!
        Threading.parallelFor(n * c, grain: 1) { range in
          for plane in range {
            let (b, ch) = (plane / c, plane % c)
            let dst = o + plane * outH * outW
            for i in 0..<r {
              for j in 0..<r {
                let q = subpixelMajor ? (i * r + j) * c + ch : ch * r * r + i * r + j
                let from = s + (b * cIn + q) * h * w
                for y in 0..<h {
                  let row = from + y * w
                  let line = dst + (y * r + i) * outW + j
                  for x in 0..<w { line[x * r] = row[x] }
                }
              }
            }
          }
        }
      }
    }
  }
}
