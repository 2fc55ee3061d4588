import Foundation
import SDImage
import SDTensor
import SDTestSupport
import Testing

/// RGBImage ⇄ Tensor against diffusers 0.42.1 VaeImageProcessor (fixtures from make_test_images.py).
@Suite struct ImageTensorTests {
  @Test func preprocessMatchesDiffusers() throws {
    let entry = try #require(ImageManifest.tensor)
    let image = try ImageCodec.decode(ImageFixtures.data(try #require(entry.preprocess_source)), name: "src")
    let expected = try ImageFixtures.floats(try #require(entry.preprocess))
    let x = ImageTensor.tensor(from: image)
    #expect(x.shape == [1, 3, image.height, image.width])
    #expect(x.data == expected)  // bit-identical
  }

  @Test func maskMatchesDiffusers() throws {
    let entry = try #require(ImageManifest.tensor)
    let image = try ImageCodec.decode(ImageFixtures.data(try #require(entry.mask_source)), name: "mask")
    let expected = try ImageFixtures.floats(try #require(entry.mask))
    let m = ImageTensor.maskTensor(from: image)
    #expect(m.shape == [1, 1, image.height, image.width])
    #expect(m.data == expected)
  }

  @Test func postprocessMatchesDiffusers() throws {
    let entry = try #require(ImageManifest.tensor)
    let (w, h) = (try #require(entry.width), try #require(entry.height))
    let input = Tensor(shape: [1, 3, h, w], data: try ImageFixtures.floats(try #require(entry.postprocess_in)))
    let expected = [UInt8](try ImageFixtures.data(try #require(entry.postprocess_out)))
    let image = ImageTensor.image(from: input)
    #expect(image.width == w && image.height == h && image.channels == 3)
    #expect(image.pixels == expected)
  }

  @Test func roundTripIsExact() {
    let image = ImageFixtures.pattern(width: 9, height: 5, channels: 3)
    #expect(ImageTensor.image(from: ImageTensor.tensor(from: image)) == image)
  }

  @Test func batchIndexAndGrayOutput() {
    // [2, 1, 1, 2]: batch 1 holds the values; one channel gives a gray image.
    let t = Tensor(shape: [2, 1, 1, 2], data: [0, 0, -1, 1])
    let gray = ImageTensor.image(from: t, index: 1)
    #expect(gray.channels == 1 && gray.pixels == [0, 255])
  }

  @Test func clampsAndRoundsHalfToEven() {
    // (x * 0.5 + 0.5) * 255 = 0.5 → 0, 1.5 → 2 (numpy rounds half to even); NaN → 0; out of range clamps.
    let half = 2 * (Float(0.5) / 255) - 1
    let oneAndHalf = 2 * (Float(1.5) / 255) - 1
    let values: [Float] = [-3, 5, .nan, half, oneAndHalf, .infinity]
    let t = Tensor(shape: [1, 1, 1, values.count], data: values)
    let out = ImageTensor.image(from: t).pixels
    #expect(out[0] == 0 && out[1] == 255 && out[2] == 0 && out[5] == 255)
    #expect(out[3] <= 1 && out[4] >= 1 && out[4] <= 2)
  }

  @Test func alphaAndGrayInputsBecomeRGB() {
    let rgba = ImageFixtures.pattern(width: 3, height: 2, channels: 4)
    #expect(ImageTensor.tensor(from: rgba) == ImageTensor.tensor(from: rgba.rgb()))
    let gray = ImageFixtures.pattern(width: 3, height: 2, channels: 1)
    let t = ImageTensor.tensor(from: gray)
    #expect(t.shape == [1, 3, 2, 3])
    #expect(Array(t.data[0..<6]) == Array(t.data[6..<12]))
  }
}
