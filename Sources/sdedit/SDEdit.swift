import ArgumentParser
import Foundation
import SDTensor

@main
struct SDEdit: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sdedit",
    abstract: "Stable Diffusion on the CPU: generate, repaint, upscale and rank images.",
    subcommands: [
      Txt2ImgCommand.self, Img2ImgCommand.self, InpaintCommand.self, UpscaleCommand.self, RankCommand.self,
      TokenizeCommand.self, InfoCommand.self, BenchCommand.self, BatchCommand.self,
    ])

  /// Exit codes (DESIGN.md): 0 success, 1 bad input or model, 2 usage error.
  static func main() {
    Signals.install()
    MemoryPolicy.reuseFreedActivations()
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let error as CLIFailure {
      FileHandle.standardError.write(Data("sdedit: \(error.message)\n".utf8))
      Foundation.exit(error.status)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        exit(withError: error)
      } else if code == .validationFailure || error is ValidationError || code.rawValue == 64 {
        FileHandle.standardError.write(Data("\(fullMessage(for: error))\n".utf8))
        Foundation.exit(2)
      } else if error is ExitCode || error is CleanExit {
        exit(withError: error)
      } else {
        // A library error: one clear line.
        FileHandle.standardError.write(Data("sdedit: \(error)\n".utf8))
        Foundation.exit(1)
      }
    }
  }
}

/// A failure to report as one line on stderr with exit code 1 (or `status`: 2 for input that is
/// malformed as a whole, such as a batch file that is not JSON Lines).
struct CLIFailure: Error {
  let message: String
  let status: Int32
  init(_ message: String, status: Int32 = 1) {
    self.message = message
    self.status = status
  }
}

