import ArgumentParser
import Foundation
import SDPipeline
import SDTensor

/// `sdedit batch JOBS.jsonl`: many jobs in one process, each model loaded once (`ModelCache`),
/// shardable over Slurm array tasks and Kubernetes indexed Jobs (`Shard`), resumable (existing
/// outputs are skipped; outputs are written atomically), with a JSON Lines results log.
/// Each job is parsed and run by its subcommand's own type (`BatchTask`, `BatchArguments`).
struct BatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "batch",
    abstract: "Run txt2img, img2img, inpaint, upscale and rank jobs from a JSON Lines file, loading each model once.",
    usage: "sdedit batch JOBS.jsonl [--model PATH] [defaults…] [--shard I/N | --shards N] [--log FILE] [--overwrite]",
    discussion: """
      Each line of JOBS.jsonl is one job, with the subcommand's long option names as keys:
        {"task": "txt2img", "prompt": "a red fox", "steps": 4, "karras": true, "output": "out/0001.png"}
      "task" is txt2img (the default), img2img, inpaint, upscale or rank; every job but rank names its \
      "output" (folders are created). true sets a flag, a list repeats an option (rank's "images" is a \
      list), null drops a default. Paths are relative to the current folder; "-" is not allowed.

      Options after JOBS.jsonl that batch does not define (--steps 4, --precision bf16, --karras, …) are \
      defaults for every job whose subcommand has them; a job's own keys win.

      A job without "seed" draws with --seed + its index (jobs count from 0 in file order, blank lines \
      not counted), so sharded and single-process runs make the same images (with the same --threads).

      The results log, JSON Lines on stdout or appended to --log FILE, has one line per job: index, \
      line, task, status (ok, skipped, error), output, seed, seconds, and the one-line error; rank jobs \
      add their ranking. An output that exists is skipped unless --overwrite, so a killed or preempted \
      run is simply started again. Exit status: 0 when every job of the shard succeeded or was skipped, \
      1 otherwise, 2 for a usage error or a file that is not JSON Lines.

      Sharding: --shard I/N runs the jobs whose index ≡ I (mod N). Without it, a Slurm array task takes \
      its shard from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, and a Kubernetes indexed Job from \
      JOB_COMPLETION_INDEX with --shards N (examples/slurm, examples/k8s).
      """)

  @Option(help: "Default --model of the jobs (a job's \"model\" overrides it; default: $SDEDIT_MODEL).")
  var model: String?

  @Option(help: "Seed of the jobs without one: this + the job's index.")
  var seed: UInt64 = 0

  @Option(help: ArgumentHelp("Run the jobs whose index ≡ I (mod N), 0 ≤ I < N.", valueName: "I/N"))
  var shard: String?

  @Option(help: "Number of shards, the index taken from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID.")
  var shards: Int?

  @Option(help: "Append the results log (JSON Lines) to this file instead of writing it on stdout.")
  var log: String?

  @Flag(help: "Redo jobs whose output exists (default: skip them, so a rerun resumes).")
  var overwrite = false

  @Flag(help: "Check every job of the shard and log its argument list (status \"planned\") without running it.")
  var dryRun = false

  @Option(help: "Models kept loaded at once; the least recently used is dropped first.")
  var keepModels = 4

  @Argument(
    parsing: .allUnrecognized,
    help: ArgumentHelp("The jobs file (- for stdin), then defaults for the jobs.", valueName: "JOBS.jsonl [defaults]"))
  var jobsAndDefaults: [String] = []

  func validate() throws {
    guard (0...64).contains(keepModels) else { throw ValidationError("--keep-models must be between 0 and 64.") }
    _ = try plan()
    _ = try Shard.select(shard: shard, shards: shards, environment: ProcessInfo.processInfo.environment)
  }

  func run() throws {
    let (jobsFile, defaults, schemas) = try plan()
    let (shard, source) = try Shard.select(shard: shard, shards: shards, environment: ProcessInfo.processInfo.environment)
    let file = try BatchFile(path: jobsFile)
    let mine = file.jobs.filter { shard.owns($0.index) }
    Console.note("batch: \(jobsFile): shard \(shard) (\(source)): \(mine.count) of \(file.jobs.count) jobs")
    ModelCache.shared.capacity = keepModels
    let results = try BatchLog(path: log)
    let threads = Threading.threadCount
    let start = DispatchTime.now().uptimeNanoseconds
    var counts: [BatchRecord.Status: Int] = [:]
    for job in mine {
      Threading.threadCount = threads  // a job's --threads does not leak into the next
      let record = process(job, defaults: defaults, schemas: schemas)
      try results.write(record)
      counts[record.status, default: 0] += 1
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let loads = ModelCache.shared.loadCount
    Console.note(
      String(
        format: "batch: shard %@: %d ok, %d skipped, %d failed%@ in %.1f s; %d model load%@", shard.description as NSString,
        counts[.ok] ?? 0, counts[.skipped] ?? 0, counts[.error] ?? 0, dryRun ? ", \(counts[.planned] ?? 0) planned" : "",
        seconds, loads, loads == 1 ? "" : "s"))
    if counts[.error] != nil { throw ExitCode(1) }
  }

  /// The jobs file, the defaults and every task's schema, from the command line.
  private func plan() throws -> (jobsFile: String, defaults: [BatchDefault], schemas: [BatchTask: CommandSchema]) {
    var schemas: [BatchTask: CommandSchema] = [:]
    for task in BatchTask.allCases {
      guard let schema = CommandSchema(task.command) else {
        throw CLIFailure("cannot read the options of \(task.rawValue) from swift-argument-parser (an unsupported version?)")
      }
      schemas[task] = schema
    }
    var (jobsFile, defaults) = try BatchArguments.parseDefaults(jobsAndDefaults, schemas: schemas)
    guard let jobsFile else { throw ValidationError("give the jobs file: sdedit batch JOBS.jsonl [options].") }
    if let model { defaults.insert(BatchDefault(key: "model", tokens: BatchArguments.optionTokens("model", model)), at: 0) }
    return (jobsFile, defaults, schemas)
  }

  /// Runs (or skips, or plans) one job; never throws: a failure is the record's error.
  private func process(_ job: BatchFile.Job, defaults: [BatchDefault], schemas: [BatchTask: CommandSchema]) -> BatchRecord {
    var record = BatchRecord(index: job.index, line: job.line)
    let start = DispatchTime.now().uptimeNanoseconds
    do {
      let object = try job.object.get()
      let task = try BatchTask(job: object)
      record.task = task.rawValue
      if task.writesImage {
        guard case .string(let path)? = object["output"], !path.isEmpty else {
          throw JobFailure("no \"output\": each \(task.rawValue) job names its image file")
        }
        record.output = path
      }
      let (derived, overflow) = seed.addingReportingOverflow(UInt64(job.index))
      guard !overflow else { throw JobFailure("--seed \(seed) + job index \(job.index) overflows") }
      let arguments = try BatchArguments.build(object, task: task, schema: schemas[task]!, defaults: defaults, seed: derived)
      let prepared = try task.prepare(arguments)
      record.seed = prepared.seed
      if dryRun {
        (record.status, record.arguments) = (.planned, arguments)
      } else if let output = record.output, !overwrite, FileManager.default.fileExists(atPath: output) {
        record.status = .skipped
      } else {
        if let output = record.output { try Self.createFolder(of: output) }
        record.ranking = try prepared.run()
        record.status = .ok
      }
    } catch {
      record.error = BatchTask.message(for: error)
    }
    record.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return record
  }

  private static func createFolder(of path: String) throws(JobFailure) {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw JobFailure("\(folder.path): cannot create the output folder (\(error.localizedDescription))")
    }
  }
}
