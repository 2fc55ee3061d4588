import Foundation
import SDTestSupport
import Testing

/// `sdedit batch` sharding: every job runs in exactly one shard, whichever way the shard is chosen.
/// `--dry-run` checks and logs each job of the shard without generating, so these runs are quick.
@Suite struct BatchShardingTests {
  /// 13 jobs over 15 lines: a blank line, a line that is not JSON and one with an unknown option
  /// (those fail, in their own shard, but are jobs all the same).
  static func jobsFile(in dir: URL) throws -> String {
    var lines = try (0..<11).map { i in
      try BatchRun.jsonLines([["prompt": "job \(i)", "output": "out/\(i).png"]]).trimmingCharacters(in: .newlines)
    }
    lines.insert("", at: 3)
    lines.insert("{not json", at: 6)
    lines.insert(#"{"prompt": "x", "output": "out/x.png", "no-such-option": 1}"#, at: 9)
    lines.insert("   ", at: 12)
    return try BatchRun.write(lines.joined(separator: "\n") + "\n", "jobs.jsonl", in: dir)
  }

  static let jobCount = 13

  /// The job indices one dry run logged.
  static func indices(_ result: CLIRunner.Result) throws -> [Int] {
    try BatchRun.records(result.stdout).map { try #require($0["index"] as? Int) }
  }

  @Test(arguments: [1, 2, 3, 5, 8, 20])
  func shardsCoverEveryJobExactlyOnce(count: Int) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let jobs = try Self.jobsFile(in: dir)
    var seen: [Int] = []
    for i in 0..<count {
      let result = try BatchRun.run([jobs, "--model", BatchRun.model, "--dry-run", "--shard", "\(i)/\(count)"], in: dir)
      #expect(result.status == (try BatchRun.records(result.stdout).contains { $0["status"] as? String == "error" } ? 1 : 0))
      let mine = try Self.indices(result)
      #expect(mine.allSatisfy { $0 % count == i }, "shard \(i)/\(count) ran \(mine)")
      seen += mine
    }
    #expect(seen.sorted() == Array(0..<Self.jobCount), "\(count) shards ran \(seen.sorted())")
  }

  /// Slurm's array variables and a Kubernetes completion index select the same jobs as `--shard`.
  @Test func schedulerVariablesSelectTheSameShards() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let jobs = try Self.jobsFile(in: dir)
    let base = [jobs, "--model", BatchRun.model, "--dry-run"]
    let count = 3
    for i in 0..<count {
      let explicit = try Self.indices(try BatchRun.run(base + ["--shard", "\(i)/\(count)"], in: dir))
      // sbatch --array=1-3 and --array=10-30:10
      let slurm = try Self.indices(try BatchRun.run(base, in: dir, environment: [
        "SLURM_ARRAY_TASK_ID": "\(i + 1)", "SLURM_ARRAY_TASK_COUNT": "\(count)", "SLURM_ARRAY_TASK_MIN": "1",
      ]))
      let stepped = try Self.indices(try BatchRun.run(base, in: dir, environment: [
        "SLURM_ARRAY_TASK_ID": "\(10 * (i + 1))", "SLURM_ARRAY_TASK_COUNT": "\(count)", "SLURM_ARRAY_TASK_MIN": "10",
        "SLURM_ARRAY_TASK_STEP": "10",
      ]))
      let kubernetes = try Self.indices(try BatchRun.run(base + ["--shards", "\(count)"], in: dir, environment: [
        "JOB_COMPLETION_INDEX": "\(i)"
      ]))
      #expect(!explicit.isEmpty)
      #expect(slurm == explicit && stepped == explicit && kubernetes == explicit, "shard \(i)")
    }
  }

  @Test func ambiguousShardingIsAUsageError() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let jobs = try Self.jobsFile(in: dir)
    let cases: [([String], [String: String], String)] = [
      (["--shard", "3/3"], [:], "--shard"),
      (["--shard", "1-of-3"], [:], "I/N"),
      (["--shard", "0/2", "--shards", "2"], [:], "not both"),
      (["--shards", "4"], [:], "JOB_COMPLETION_INDEX"),
      ([], ["JOB_COMPLETION_INDEX": "1"], "--shards"),
      ([], ["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"], "--shard"),
    ]
    for (extra, environment, message) in cases {
      let result = try BatchRun.run([jobs, "--dry-run"] + extra, in: dir, environment: environment)
      #expect(result.status == 2, "\(extra) \(environment): \(result.stderr)")
      #expect(result.stderr.contains(message), "\(extra) \(environment): \(result.stderr)")
      #expect(result.stdout.isEmpty)
    }
  }
}
