import ArgumentParser
import Foundation

/// Why one batch job failed: the one line its log record carries.
struct JobFailure: Error, CustomStringConvertible {
  let message: String
  init(_ message: String) { self.message = message }
  var description: String { message }
}

/// The kinds of job a batch file holds (its `task` key), each run by its subcommand's own type:
/// the argument list is parsed by `Txt2ImgCommand.parse` and friends, with their validation and
/// messages, then run in this process, so models stay loaded between jobs (`ModelCache`).
enum BatchTask: String, CaseIterable {
  case txt2img, img2img, inpaint, upscale, rank

  /// "txt2img, img2img, inpaint, upscale or rank".
  static let list = allCases.dropLast().map(\.rawValue).joined(separator: ", ") + " or " + allCases.last!.rawValue

  var command: ParsableCommand.Type {
    switch self {
    case .txt2img: return Txt2ImgCommand.self
    case .img2img: return Img2ImgCommand.self
    case .inpaint: return InpaintCommand.self
    case .upscale: return UpscaleCommand.self
    case .rank: return RankCommand.self
    }
  }

  /// Jobs that write one image, named by their `output` key (rank jobs log their scores instead).
  var writesImage: Bool { self != .rank }

  /// The task a job object names (`task`, default txt2img).
  init(job: [String: JSONValue]) throws(JobFailure) {
    switch job["task"] {
    case nil, .null?: self = .txt2img
    case .string(let name)?:
      guard let task = BatchTask(rawValue: name) else { throw JobFailure("\"task\": \"\(name)\" is not \(Self.list)") }
      self = task
    default: throw JobFailure("\"task\" must be a string: \(Self.list)")
    }
  }

  /// A parsed, validated job, ready to run.
  struct Prepared {
    /// The seed it draws with (nil: the job draws no noise).
    let seed: UInt64?
    /// Runs it; rank jobs return their images and scores, best first.
    let run: () throws -> [(path: String, score: Float)]?
  }

  /// Parses `arguments` with the subcommand (errors as the subcommand reports them).
  func prepare(_ arguments: [String]) throws(JobFailure) -> Prepared {
    switch self {
    case .txt2img:
      let command = try parse(Txt2ImgCommand.self, arguments)
      guard command.count == 1 else {
        throw JobFailure("count \(command.count): a batch job makes one image; write one job per seed")
      }
      return Prepared(seed: command.sampling.seed) { try command.run(); return nil }
    case .img2img:
      let command = try parse(Img2ImgCommand.self, arguments)
      return Prepared(seed: command.sampling.seed) { try command.run(); return nil }
    case .inpaint:
      let command = try parse(InpaintCommand.self, arguments)
      return Prepared(seed: command.sampling.seed) { try command.run(); return nil }
    case .upscale:
      let command = try parse(UpscaleCommand.self, arguments)
      let diffusion: Bool
      if case .diffusers? = try? UpscaleModel(path: command.model) { diffusion = true } else { diffusion = false }
      return Prepared(seed: diffusion ? command.diffusion.seed : nil) { try command.run(); return nil }
    case .rank:
      let command = try parse(RankCommand.self, arguments)
      return Prepared(seed: nil) { try command.ranking() }
    }
  }

  private func parse<Command: ParsableCommand>(_ type: Command.Type, _ arguments: [String]) throws(JobFailure) -> Command {
    do {
      return try Command.parse(arguments)
    } catch {
      throw JobFailure(Self.oneLine(Command.message(for: error)))
    }
  }

  /// The first non-empty line of a message, without argument-parser's "Error: " prefix.
  static func oneLine(_ message: String) -> String {
    let line = message.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
    let text = line.hasPrefix("Error: ") ? line.dropFirst(7) : line[...]
    return text.trimmingCharacters(in: .whitespaces)
  }

  /// A run's error as sdedit reports it on stderr (`SDEdit.main`), on one line.
  static func message(for error: Error) -> String {
    if let failure = error as? CLIFailure { return oneLine(failure.message) }
    if let validation = error as? ValidationError { return oneLine(validation.message) }
    return oneLine("\(error)")
  }
}
