import Foundation
import SDImage
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// Interrupted runs, refused outputs, damaged or hostile models and inputs: each ends in one clear
/// line on stderr and the documented exit code, leaves no partial or temporary file, and never
/// overwrites an input.
@Suite struct ReliabilityTests {
  static let model = Fixtures.url("models/sd1-tiny").path
  static let checkpoint = Fixtures.url("models/sd1-tiny.safetensors")

  /// The files in `dir`, hidden ones (temporary files are `.name.sdedit-tmp-…`) included.
  static func listing(_ dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
  }

  static func lines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: true) }

  // MARK: - Interrupted runs

  /// A long txt2img run (500 steps) interrupted once it has loaded the model and started
  /// sampling: exit 128 + signal, no output, no temporary file.
  @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
  func interruptedRunLeavesNothing(signal: Int32, status: Int32) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path
    // No --seed: sdedit reports the random seed on stderr just before sampling starts.
    let result = try CLIRunner.run(
      ["txt2img", "--model", Self.model, "--prompt", "a cat", "--width", "64", "--height", "64", "--steps", "500", "-o", out],
      interrupt: .init(signal: signal, afterStderr: "seed:", delay: 0.5))
    #expect(result.status == status && !result.killedBySignal, "\(result.status) \(result.stderr)")
    #expect(result.stderr.contains("interrupted"), "\(result.stderr)")
    #expect(try Self.listing(dir) == [])
  }

  /// `--count` interrupted part-way: the images already written are complete, nothing else is left.
  @Test func interruptedBatchKeepsOnlyCompleteImages() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try CLIRunner.run(
      [
        "txt2img", "--model", Self.model, "--prompt", "a cat", "--width", "32", "--height", "32", "--steps", "1",
        "--count", "200", "-o", dir.appendingPathComponent("o.png").path,
      ],
      interrupt: .init(signal: SIGINT, afterStderr: "wrote ", delay: 0.2))
    #expect(result.status == 130, "\(result.stderr)")
    let files = try Self.listing(dir)
    #expect(!files.isEmpty && files.count < 200)
    for name in files {
      #expect(!name.hasPrefix(".") && name.hasSuffix(".png"), "left behind: \(name)")
      #expect(throws: Never.self) { _ = try ImageFile.read(path: dir.appendingPathComponent(name).path) }
    }
  }

  /// Temporary files are registered only while a write is in flight.
  @Test func atomicWritesUnregisterTheirTemporaryFiles() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try AtomicFile.write(Data("ok".utf8), to: dir.appendingPathComponent("a.txt").path)
    #expect(throws: FileError.self) { try AtomicFile.write(Data(), to: dir.appendingPathComponent("no/such/dir/b.txt").path) }
    #expect(!TemporaryFiles.live.contains { $0.hasPrefix(dir.path) })
    #expect(try Self.listing(dir) == ["a.txt"])
  }

  // MARK: - Outputs that name inputs

  @Test func outputNamingAnInputIsRefused() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let image = dir.appendingPathComponent("in.png")
    try FileManager.default.copyItem(at: Fixtures.url("images/rgb8.png"), to: image)
    let link = dir.appendingPathComponent("link.png")
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: image)
    let before = try Data(contentsOf: image)
    let runs: [[String]] = [
      ["img2img", "--model", Self.model, "--prompt", "x", "-i", image.path, "-o", image.path],
      ["img2img", "--model", Self.model, "--prompt", "x", "-i", image.path, "-o", link.path],
      ["img2img", "--model", Self.model, "--prompt", "x", "-i", image.path, "-o", dir.path + "/./in.png"],
      ["inpaint", "--model", Self.model, "--prompt", "x", "-i", image.path, "--mask", link.path, "-o", image.path],
      ["upscale", "--model", Self.model, "-i", image.path, "-o", link.path],
    ]
    for arguments in runs {
      let result = try CLIRunner.run(arguments)
      #expect(result.status == 2, "\(arguments[0]): \(result.stderr)")
      #expect(result.stderr.contains("input"), "\(arguments[0]): \(result.stderr)")
    }
    #expect(try Data(contentsOf: image) == before)
  }

  // MARK: - Damaged checkpoints: one line naming the tensor

  /// Runs txt2img on `model` and returns its stderr, expecting exit 1 and one line.
  static func failingRun(_ model: String) throws -> String {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try CLIRunner.run([
      "txt2img", "--model", model, "--prompt", "x", "--width", "32", "--height", "32", "--steps", "1", "--seed", "1",
      "-o", dir.appendingPathComponent("o.png").path,
    ])
    #expect(result.status == 1, "\(result.stderr)")
    #expect(lines(result.stderr).count == 1, "\(result.stderr)")
    #expect(try listing(dir) == [])
    return result.stderr
  }

  /// Copies the tiny checkpoint with `edit` applied to its tensor list.
  static func editedCheckpoint(in dir: URL, _ edit: (inout [(String, Tensor)]) -> Void) throws -> URL {
    let source = try SafeTensorsFile(url: checkpoint)
    // position_ids (I64) is not a weight sdedit reads, and the writer stores floats only.
    let floats = source.names.filter { source.info($0)!.dtype.convertsToFloat }
    var tensors = try floats.map { ($0, try source.tensor($0)) }
    edit(&tensors)
    let url = dir.appendingPathComponent("edited.safetensors")
    try SafeTensorsWriter.write(tensors, metadata: source.metadata, to: url)
    return url
  }

  @Test func truncatedCheckpointNamesATensor() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let bytes = try Data(contentsOf: Self.checkpoint)
    let url = dir.appendingPathComponent("truncated.safetensors")
    try bytes.prefix(bytes.count / 2).write(to: url)
    let message = try Self.failingRun(url.path)
    #expect(message.contains("truncated.safetensors") && message.contains("tensor '"), "\(message)")
    #expect(message.contains("past the end"), "\(message)")
  }

  @Test func missingTensorIsNamed() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let removed = "first_stage_model.decoder.conv_out.weight"
    let url = try Self.editedCheckpoint(in: dir) { tensors in tensors.removeAll { $0.0 == removed } }
    let message = try Self.failingRun(url.path)
    #expect(message.contains("missing tensor") && message.contains("conv_out.weight"), "\(message)")
  }

  @Test func wrongShapeIsNamed() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let name = "first_stage_model.decoder.conv_out.weight"
    var original: [Int] = []
    let url = try Self.editedCheckpoint(in: dir) { tensors in
      let i = tensors.firstIndex { $0.0 == name }!
      original = tensors[i].1.shape
      tensors[i].1 = Tensor(zeros: [original[0], original[1], 1, 1])
    }
    let message = try Self.failingRun(url.path)
    #expect(message.contains("conv_out.weight") && message.contains("expected \(original)"), "\(message)")
  }

  /// Found while writing the singlefile fuzzer: a tensor with fewer dimensions than its layer has
  /// (here a scalar) crashed the architecture detection with an index out of range.
  @Test(arguments: [
    "model.diffusion_model.out.2.weight", "model.diffusion_model.input_blocks.1.0.out_layers.3.weight",
    "first_stage_model.post_quant_conv.weight", "first_stage_model.encoder.conv_in.weight",
    "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight",
  ])
  func lowRankTensorIsRefusedByName(name: String) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = try Self.editedCheckpoint(in: dir) { tensors in
      let i = tensors.firstIndex { $0.0 == name }!
      tensors[i].1 = Tensor(shape: [], data: [1])
    }
    let message = try Self.failingRun(url.path)
    #expect(message.contains(name) && message.contains("dimension"), "\(message)")
  }

  /// The same detection from bytes in memory: OpenCLIP's fused attention with a scalar
  /// `in_proj_bias` is skipped, not split.
  @Test func fusedAttentionWithScalarBiasDoesNotCrash() throws {
    let file = try SafeTensorsFile(url: Fixtures.url("models/sd2-tiny.safetensors"))
    let floats = file.names.filter { file.info($0)!.dtype.convertsToFloat }
    var tensors = try floats.map { ($0, try file.tensor($0)) }
    let fused = "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_bias"
    let i = try #require(tensors.firstIndex { $0.0 == fused })
    tensors[i].1 = Tensor(shape: [], data: [0])
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("sd2.safetensors")
    try SafeTensorsWriter.write(tensors, metadata: file.metadata, to: url)
    let bytes = try [UInt8](Data(contentsOf: url))
    let checkpoint = try SingleFileCheckpoint(file: SafeTensorsFile(bytes: bytes, name: "memory.safetensors"))
    let store = try checkpoint.textEncoderWeights()
    #expect(!store.contains("text_model.encoder.layers.0.self_attn.q_proj.bias"))
  }

  /// Found by the singlefile fuzzer (LeakSanitizer): the q/k/v thirds of OpenCLIP's fused
  /// attention were registered as closures holding their own store, a cycle that kept the store
  /// and the whole mapped checkpoint alive after the model was gone.
  @Test func openCLIPTextWeightsAreFreed() throws {
    weak var weakStore: WeightStore?
    weak var weakFile: SafeTensorsFile?
    try {
      let checkpoint = try SingleFileCheckpoint(url: Fixtures.url("models/sd2-tiny.safetensors"))
      let store = try checkpoint.textEncoderWeights()
      #expect(store.contains("text_model.encoder.layers.0.self_attn.q_proj.weight"))
      _ = try store.tensor("text_model.encoder.layers.0.self_attn.k_proj.weight")
      (weakStore, weakFile) = (store, checkpoint.file)
    }()
    #expect(weakStore == nil)
    #expect(weakFile == nil)
  }

  /// Found while triaging the config fuzzer's UNet crash (below): `norm_num_groups: 0` divided by
  /// zero in the VAE config check too.
  @Test func vaeConfigWithZeroGroupsIsRefused() {
    let config = JSONConfig(values: ["block_out_channels": [32, 64], "norm_num_groups": 0], source: "vae/config.json")
    #expect(throws: ConfigError.self) { _ = try VAEConfig(config) }
  }

  /// Found by the config fuzzer (zero groups or heads: division by zero in `UNetConfig`) and by
  /// hand after it (negative layer counts trapped on `0..<n` when the model was built).
  @Test(
    arguments: [
      ("norm_num_groups", "0"), ("num_attention_heads", "[8, 0]"), ("attention_head_dim", "[8, 0]"),
      ("attention_head_dim", "-2"), ("layers_per_block", "-1"), ("transformer_layers_per_block", "-1"),
    ])
  func unetConfigWithNonPositiveSizesIsRefused(key: String, json: String) throws {
    var all: [String: Any] = ["block_out_channels": [32, 64], "norm_num_groups": 16]
    all["down_block_types"] = ["CrossAttnDownBlock2D", "DownBlock2D"]
    all["up_block_types"] = ["UpBlock2D", "CrossAttnUpBlock2D"]
    all[key] = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
    #expect(throws: ConfigError.self) { _ = try UNetConfig(JSONConfig(values: all, source: "unet/config.json")) }
  }

  // MARK: - No code from data, no paths out of the model folder

  @Test func picklesAreRefusedWhateverTheirName() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    // A torch zip container renamed to .safetensors, and a raw pickle (PROTO 2) named .pt.
    let zip = dir.appendingPathComponent("renamed.safetensors")
    try Data([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 60)).write(to: zip)
    let pt = dir.appendingPathComponent("model.pt")
    try Data([0x80, 0x02, 0x63, 0x6F, 0x73, 0x0A]).write(to: pt)
    for url in [zip, pt] {
      let message = try Self.failingRun(url.path)
      #expect(message.contains("refusing to load a pickled PyTorch checkpoint"), "\(message)")
    }
    // A diffusers folder whose UNet ships only pickled weights.
    let folder = try Self.copyOfTinyModel(in: dir)
    try FileManager.default.removeItem(at: folder.appendingPathComponent("unet/diffusion_pytorch_model.safetensors"))
    try Data([0x80, 0x02]).write(to: folder.appendingPathComponent("unet/diffusion_pytorch_model.bin"))
    let message = try Self.failingRun(folder.path)
    #expect(message.contains("diffusion_pytorch_model.bin") && message.contains("pickled"), "\(message)")
  }

  @Test(arguments: ["../vae/diffusion_pytorch_model.safetensors", "/etc/passwd", "sub/../../x.safetensors"])
  func shardedIndexCannotLeaveTheFolder(shard: String) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let folder = try Self.copyOfTinyModel(in: dir)
    let unet = folder.appendingPathComponent("unet")
    try FileManager.default.removeItem(at: unet.appendingPathComponent("diffusion_pytorch_model.safetensors"))
    let index = ["metadata": [String: Int](), "weight_map": ["conv_in.weight": shard]] as [String: Any]
    try JSONSerialization.data(withJSONObject: index).write(
      to: unet.appendingPathComponent("diffusion_pytorch_model.safetensors.index.json"))
    let message = try Self.failingRun(folder.path)
    #expect(message.contains("outside the model folder") && message.contains(shard), "\(message)")
  }

  /// A copy of `models/sd1-tiny` under `dir` (weights copied, so edits stay local).
  static func copyOfTinyModel(in dir: URL) throws -> URL {
    let copy = dir.appendingPathComponent("sd1-tiny")
    try FileManager.default.copyItem(at: Fixtures.url("models/sd1-tiny"), to: copy)
    return copy
  }

  // MARK: - Limits before allocation

  @Test(arguments: [4104, 8192, 1 << 20])
  func oversizedGenerationIsAUsageError(width: Int) throws {
    let result = try CLIRunner.run([
      "txt2img", "--model", Self.model, "--prompt", "x", "--width", "\(width)", "-o", "/tmp/never-written.png",
    ])
    #expect(result.status == 2)
    #expect(result.stderr.contains("between 8 and 4096"), "\(result.stderr)")
  }

  /// Images whose headers declare more than 16384 pixels a side are refused from the header,
  /// before any pixel memory is allocated (and before the model is loaded).
  @Test(arguments: ["huge_header.png", "huge_header.jpg"])
  func hugeImageHeaderIsRefused(name: String) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try CLIRunner.run([
      "img2img", "--model", Self.model, "--prompt", "x", "-i", Fixtures.url("images/" + name).path,
      "-o", dir.appendingPathComponent("o.png").path,
    ])
    #expect(result.status == 1)
    #expect(result.stderr.contains(name) && result.stderr.contains("the limit is 16384"), "\(result.stderr)")
    #expect(Self.lines(result.stderr).count == 1, "\(result.stderr)")
  }

  /// Found by the png fuzzer: libpng allocated an ancillary chunk at its declared length before
  /// reading it, so a 1 KB file declaring a ~1 GB tEXt chunk allocated 1 GB. The decoder's
  /// allocator now refuses blocks over 16 MB; the file fails as truncated.
  @Test func hugeTextChunkFailsWithoutAllocatingIt() throws {
    let data = [UInt8](try Fixtures.data("images/text_chunks.png"))
    let ihdrEnd = 8 + 8 + 13 + 4
    var hostile = Array(data[..<ihdrEnd])
    hostile += withUnsafeBytes(of: UInt32(0x3C00_0014).bigEndian) { Array($0) } + Array("tEXtComment\0".utf8)
    hostile += [UInt8](repeating: 0x78, count: 64) + data[ihdrEnd...]
    #expect(throws: ImageError.self) { _ = try ImageCodec.decode(Data(hostile), name: "hostile.png") }
  }

  /// A safetensors header claiming a 2^40-element tensor, or a 1 GB header, is refused before
  /// anything of that size is allocated.
  @Test func absurdSafetensorsSizesAreRefused() throws {
    var big: [UInt8] = withUnsafeBytes(of: UInt64(1 << 30).littleEndian) { Array($0) }
    big += Array("{}".utf8)
    #expect(throws: CheckpointError.headerTooLarge(path: "big", headerLength: 1 << 30)) {
      _ = try SafeTensorsFile(bytes: big, name: "big")
    }
    let header = Array(#"{"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,0]}}"#.utf8)
    let huge = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
    #expect(throws: CheckpointError.shapeTooLarge(tensor: "w", shape: [1_048_576, 1_048_576], path: "huge")) {
      _ = try SafeTensorsFile(bytes: huge, name: "huge")
    }
  }

  // MARK: - A full disk

  /// With SDEDIT_TEST_SMALL_FS naming a writable folder on a nearly full file system (e.g. a
  /// 64 KB tmpfs: `mount -t tmpfs -o size=64k tmpfs /tmp/small`), a write that does not fit
  /// fails with one clear line and leaves the old file and no temporary file.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["SDEDIT_TEST_SMALL_FS"] != nil))
  func fullDiskKeepsTheOldFile() throws {
    let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SDEDIT_TEST_SMALL_FS"]!)
    let target = dir.appendingPathComponent("keep.png")
    try Data("old".utf8).write(to: target)
    defer { try? FileManager.default.removeItem(at: target) }
    let result = try CLIRunner.run([
      "txt2img", "--model", Self.model, "--prompt", "x", "--width", "256", "--height", "256", "--steps", "1",
      "--seed", "3", "-o", target.path,
    ])
    #expect(result.status == 1, "\(result.stderr)")
    #expect(result.stderr.contains("keep.png") && result.stderr.contains("No space left"), "\(result.stderr)")
    #expect(try Data(contentsOf: target) == Data("old".utf8))
    #expect(try Self.listing(dir).filter { $0.contains("sdedit-tmp") } == [])
  }
}
