import Foundation
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// In bf16, a checkpoint's F16/BF16 weights are packed straight from the mapped file; the
/// result must be exactly what packing the widened Float32 tensor gives (f16 → f32 is exact, and
/// both round f32 → bf16 to nearest even), and the tensor must count as used.
@Suite struct HalfWeightPackingTests {
  @Test(arguments: [SafeTensorsDType.f16, .bf16])
  func directPackingEqualsPackingTheFloatTensor(dtype: SafeTensorsDType) throws {
    guard BF16GEMM.isAvailable else {
      print("skipped: this CPU has no AVX-512 BF16")
      return
    }
    var rng = TorchRandom(seed: 11)
    let linear = rng.randn([24, 40]), conv = rng.randn([16, 6, 3, 3]), pointwise = rng.randn([8, 6])
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("w.safetensors")
    try SafeTensorsWriter.write(
      [("lin.weight", linear), ("conv.weight", conv), ("pw.weight", pointwise)], dtype: dtype, to: url)
    let file = try SafeTensorsFile(url: url)
    let store = try WeightStore(files: [file])
    store.precision = .bf16
    let w = WeightScope(store)

    let direct = try Linear(w("lin"), in: 40, out: 24, bias: false)
    let widened = MatrixWeight(try file.tensor("lin.weight"), role: .linear, precision: .bf16)
    let x = rng.randn([5, 40])
    #expect(x.linear(weight: direct.weight, bias: nil).data == x.linear(weight: widened, bias: nil).data)

    let image = rng.randn([1, 6, 7, 9])
    let directConv = try Conv2DLayer(w("conv"), in: 6, out: 16, kernel: 3, bias: false)
    let widenedConv = MatrixWeight(try file.tensor("conv.weight"), role: .convolution, precision: .bf16)
    #expect(directConv(image).data == image.conv2d(weight: widenedConv, bias: nil, padding: .uniform(1)).data)

    // A 1×1 convolution stored as a linear weight [out, in].
    let directPointwise = try Conv2DLayer(w("pw"), in: 6, out: 8, kernel: 1, bias: false)
    let widenedPointwise = MatrixWeight(try file.tensor("pw.weight").reshaped([8, 6, 1, 1]), role: .convolution, precision: .bf16)
    #expect(directPointwise(image).data == image.conv2d(weight: widenedPointwise, bias: nil, padding: .uniform(0)).data)
    #expect(store.unclaimedKeys.isEmpty)
  }
}
