// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "sdedit",
  products: [
    .executable(name: "sdedit", targets: ["sdedit"]),
    .library(name: "SDPipeline", targets: ["SDPipeline"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // MARK: - System libraries
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),

    // MARK: - C shims
    // libpng/libjpeg report errors by longjmp; these wrappers keep setjmp on the C side and
    // hand Swift a status code and a message instead.
    .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"]),
    // Hand-written numeric kernels that Swift cannot express well (fp16/bf16 conversion, SIMD).
    .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

    // MARK: - Library modules
    .target(name: "SDTensor", dependencies: ["CBLAS", "CKernels"]),
    .target(name: "SDModels", dependencies: ["SDTensor"], resources: [.copy("Resources")]),
    .target(name: "SDImage", dependencies: ["SDTensor", "CImageCodecs"]),
    .target(name: "SDPipeline", dependencies: ["SDModels", "SDImage"]),

    // MARK: - Executable
    .executableTarget(
      name: "sdedit",
      dependencies: ["SDPipeline", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

    // MARK: - Tests
    .target(name: "SDTestSupport", dependencies: ["SDTensor", "SDModels"], path: "Sources/SDTestSupport"),
    .testTarget(name: "SDTensorTests", dependencies: ["SDTensor", "SDModels", "SDTestSupport"]),
    .testTarget(name: "SDModelsTests", dependencies: ["SDModels", "SDTestSupport"]),
    .testTarget(name: "SDImageTests", dependencies: ["SDImage", "SDTestSupport"]),
    .testTarget(name: "SDPipelineTests", dependencies: ["SDPipeline", "SDTestSupport"]),
    .testTarget(name: "sdeditTests", dependencies: ["SDPipeline", "SDImage", "SDTestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
