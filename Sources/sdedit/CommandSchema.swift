import ArgumentParser
import Foundation

/// The arguments a subcommand accepts, read from swift-argument-parser's own description of the
/// command (`_dumpHelp()`, the JSON behind `--experimental-dump-help`). `sdedit batch` turns job
/// objects and its command-line defaults into argument lists with it, so an option a subcommand
/// gains works in batch files at once, without a second list of options here.
struct CommandSchema {
  enum Kind: String, Decodable {
    case option, flag, positional
  }

  struct Argument {
    let kind: Kind
    /// Long names without dashes (`negative-prompt`); a flag with an inversion has both (`x`, `no-x`).
    let longNames: [String]
    /// Short names without the dash (`o`).
    let shortNames: [String]
    /// The positional's name (`images`), or the option's value name.
    let valueName: String?
    let isRepeating: Bool

    /// The name a job or default refers to it by: the first long name, or a positional's value name.
    var key: String? { kind == .positional ? valueName : longNames.first }
  }

  let arguments: [Argument]

  /// The schema of `command`, or nil when argument-parser's description cannot be read (a newer
  /// serialization version, say): then batch cannot map names and says so.
  init?(_ command: ParsableCommand.Type) {
    guard let data = command._dumpHelp().data(using: .utf8),
      let dump = try? JSONDecoder().decode(Dump.self, from: data)
    else { return nil }
    arguments = (dump.command.arguments ?? []).compactMap { raw in
      guard let kind = Kind(rawValue: raw.kind) else { return nil }
      let names = raw.names ?? []
      return Argument(
        kind: kind, longNames: names.filter { $0.kind != "short" }.map(\.name),
        shortNames: names.filter { $0.kind == "short" }.map(\.name), valueName: raw.valueName,
        isRepeating: raw.isRepeating ?? false)
    }.filter { !$0.longNames.contains("help") }
  }

  /// The argument a job key or a default's `--name` / `-n` names (a positional by its value name).
  func argument(named name: String) -> Argument? {
    arguments.first { $0.longNames.contains(name) || ($0.kind == .positional && $0.valueName == name) }
  }

  func argument(short name: String) -> Argument? {
    arguments.first { $0.shortNames.contains(name) }
  }

  // MARK: - argument-parser's ToolInfo JSON (the fields used here)

  private struct Dump: Decodable {
    let command: Command
  }

  private struct Command: Decodable {
    let arguments: [RawArgument]?
  }

  private struct RawArgument: Decodable {
    let kind: String
    let names: [Name]?
    let valueName: String?
    let isRepeating: Bool?
  }

  private struct Name: Decodable {
    let kind: String
    let name: String
  }
}
