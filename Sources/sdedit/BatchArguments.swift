import ArgumentParser
import Foundation

/// One default given on `sdedit batch`'s command line for the jobs (`--steps 4`, `--karras`).
struct BatchDefault: Equatable {
  /// The option's canonical name (its first long name).
  let key: String
  /// As passed to the subcommand (`optionTokens`).
  let tokens: [String]
}

/// Turns batch defaults and job objects into the argument list of a job's subcommand, which then
/// parses it with its own type: every option, check and message is the subcommand's.
///
/// A job object's keys are the subcommand's long option names (`negative-prompt`; `negative_prompt`
/// is accepted too) or its positional's name (`images` for rank). Values: a string or number is the
/// option's value; `true` sets a flag, `false` leaves it off (or sets `--no-X` when the flag has
/// one); an array repeats the option (or lists the positional's values); `null` drops the
/// command-line default of that option. `task` picks the subcommand. A default applies to every job
/// whose subcommand has that option and whose object does not set it.
enum BatchArguments {
  /// Inputs and outputs that must be files: stdin and stdout belong to the batch.
  static let fileKeys: Set<String> = ["output", "image", "mask", "images"]

  /// Splits the inputs `sdedit batch` did not recognize into the jobs file and the defaults,
  /// using the options of every task's subcommand to tell options from flags.
  static func parseDefaults(_ tokens: [String], schemas: [BatchTask: CommandSchema]) throws(ValidationError)
    -> (jobsFile: String?, defaults: [BatchDefault])
  {
    var jobsFile: String?
    var defaults: [BatchDefault] = []
    var i = 0
    while i < tokens.count {
      let token = tokens[i]
      i += 1
      guard token.count > 1, token.hasPrefix("-"), Double(token) == nil else {
        guard jobsFile == nil else { throw ValidationError("unexpected argument '\(token)' (the jobs file is \(jobsFile!)).") }
        jobsFile = token
        continue
      }
      let long = token.hasPrefix("--")
      let body = token.dropFirst(long ? 2 : 1)
      let name = String(body.prefix { $0 != "=" })
      let inline = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
      let found = BatchTask.allCases.lazy.compactMap { task in
        schemas[task].flatMap { long ? $0.argument(named: name) : $0.argument(short: name) }
      }.first { $0.kind != .positional }
      guard let argument = found, let key = argument.key else {
        throw ValidationError("unknown option '\(token)': not an option of \(BatchTask.list).")
      }
      guard !fileKeys.contains(key) else {
        throw ValidationError("'\(token)' cannot be a batch default: each job names its own \(key).")
      }
      if argument.kind == .flag {
        guard inline == nil else { throw ValidationError("'\(token)': --\(name) is a flag and takes no value.") }
        defaults.append(BatchDefault(key: key, tokens: ["--\(long ? name : key)"]))
      } else {
        var value = inline
        if value == nil, i < tokens.count {
          value = tokens[i]
          i += 1
        }
        guard let value else { throw ValidationError("missing value for '\(token)'.") }
        defaults.append(BatchDefault(key: key, tokens: optionTokens(key, value)))
      }
    }
    return (jobsFile, defaults)
  }

  /// The argument list of one job: the applicable defaults, then the object's options, then a
  /// derived `--seed` when the subcommand takes one and neither sets it, then positionals after `--`.
  static func build(
    _ object: [String: JSONValue], task: BatchTask, schema: CommandSchema, defaults: [BatchDefault], seed: UInt64?
  ) throws(JobFailure) -> [String] {
    var options: [String] = []
    var positionals: [String] = []
    var given = Set<String>()
    for rawKey in object.keys.sorted() where rawKey != "task" {
      let value = object[rawKey]!
      let name = rawKey.replacingOccurrences(of: "_", with: "-")
      guard let argument = schema.argument(named: name), let key = argument.key else {
        throw JobFailure("\"\(rawKey)\" is not a \(task.rawValue) option")
      }
      given.insert(key)
      if fileKeys.contains(key), containsDash(value) {
        throw JobFailure("\"\(rawKey)\": \"-\" (stdin/stdout) cannot be used in a batch job; name a file")
      }
      switch (argument.kind, value) {
      case (_, .null):
        continue
      case (.flag, .bool(let on)):
        if on {
          options.append("--\(name)")
        } else if let inverse = argument.longNames.first(where: { $0 == "no-" + name }) {
          options.append("--\(inverse)")
        }
      case (.flag, _):
        throw JobFailure("\"\(rawKey)\" is a flag: give true or false")
      case (.positional, _):
        positionals += try scalars(value, key: rawKey)
      case (.option, .array):
        options += try scalars(value, key: rawKey).flatMap { optionTokens(name, $0) }
      case (.option, _):
        guard let text = value.argumentText else { throw JobFailure("\"\(rawKey)\": expected a string, number or list") }
        options += optionTokens(name, text)
      }
    }
    var arguments = defaults.filter { schema.argument(named: $0.key) != nil && !given.contains($0.key) }.flatMap(\.tokens)
    arguments += options
    if let seed, !given.contains("seed"), schema.argument(named: "seed") != nil { arguments += optionTokens("seed", "\(seed)") }
    if !positionals.isEmpty { arguments += ["--"] + positionals }
    return arguments
  }

  /// `--name value`, or `--name=value` when the value starts with a dash (so it is not taken for
  /// an option; an empty value cannot take that form).
  static func optionTokens(_ name: String, _ value: String) -> [String] {
    value.hasPrefix("-") ? ["--\(name)=\(value)"] : ["--\(name)", value]
  }

  private static func scalars(_ value: JSONValue, key: String) throws(JobFailure) -> [String] {
    let items: [JSONValue]
    if case .array(let list) = value { items = list } else { items = [value] }
    var texts: [String] = []
    for item in items {
      guard let text = item.argumentText else { throw JobFailure("\"\(key)\": list items must be strings or numbers") }
      texts.append(text)
    }
    return texts
  }

  private static func containsDash(_ value: JSONValue) -> Bool {
    if case .array(let items) = value { return items.contains(.string("-")) }
    return value == .string("-")
  }
}
