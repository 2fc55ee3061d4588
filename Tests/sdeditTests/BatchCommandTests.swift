import Foundation
import SDImage
import SDTestSupport
import Testing

/// `sdedit batch`: jobs run as their subcommands would, once each, resumable, and a failing job
/// does not stop the others.
@Suite struct BatchCommandTests {
  /// One job of every task over the committed tiny models, and the same job as a separate command.
  static func everyTask(in dir: URL) throws -> (jobs: [[String: Any]], commands: [[String]]) {
    let input = Fixtures.url("reference/inputs/img2img_48x64.png").path
    let mask = Fixtures.url("reference/inputs/mask_48x64.png").path
    let upscaler = Fixtures.url("models/x4-upscaler-tiny").path
    let jobs: [[String: Any]] = [
      ["prompt": "a red fox", "output": "out/fox.png"],
      ["prompt": "a cat", "seed": 42, "sampler": "euler-a", "karras": false, "output": "out/cat.png"],
      ["task": "img2img", "prompt": "watercolor", "image": input, "strength": 0.5, "output": "out/img2img.png"],
      ["task": "inpaint", "prompt": "a hat", "image": input, "mask": mask, "output": "out/inpaint.png"],
      ["task": "upscale", "model": upscaler, "image": "out/fox.png", "prompt": "a fox", "output": "out/fox-x4.png"],
    ]
    // The same jobs as commands: batch defaults first, seed = --seed (default 0) + index.
    let common = ["--model", BatchRun.model] + BatchRun.small
    let commands: [[String]] = [
      ["txt2img"] + common + ["--prompt", "a red fox", "--seed", "0", "-o", "fox.png"],
      ["txt2img"] + common + ["--prompt", "a cat", "--seed", "42", "--sampler", "euler-a", "-o", "cat.png"],
      ["img2img", "--model", BatchRun.model, "--steps", "2", "--threads", "1", "--prompt", "watercolor", "-i", input,
       "--strength", "0.5", "--seed", "2", "-o", "img2img.png"],
      ["inpaint", "--model", BatchRun.model, "--steps", "2", "--threads", "1", "--prompt", "a hat", "-i", input,
       "--mask", mask, "--seed", "3", "-o", "inpaint.png"],
      ["upscale", "--model", upscaler, "--steps", "2", "--threads", "1", "-i", "out/fox.png", "--prompt", "a fox",
       "--seed", "4", "-o", "fox-x4.png"],
    ]
    return (jobs, commands)
  }

  /// Every task gives the same bytes in a batch as in its own process, and the batch loads each
  /// model once.
  @Test func jobsMatchSeparateProcesses() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let (jobs, commands) = try Self.everyTask(in: dir)
    let file = try BatchRun.write(try BatchRun.jsonLines(jobs), "jobs.jsonl", in: dir)
    let result = try BatchRun.run([file, "--model", BatchRun.model] + BatchRun.small, in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    let records = try BatchRun.records(result.stdout)
    #expect(records.map { $0["status"] as? String } == Array(repeating: "ok", count: jobs.count), "\(records)")
    #expect(records.map { $0["index"] as? Int } == Array(0..<jobs.count).map(Optional.some))
    #expect(records.map { $0["seed"] as? Int } == [0, 42, 2, 3, 4])
    // sd1-tiny without and with its VAE encoder (the second replaces the first), the x4 upscaler.
    #expect(result.stderr.contains("; 3 model loads"), "\(result.stderr)")

    for (job, command) in zip(jobs, commands) {
      let separate = try CLIRunner.run(command, workingDirectory: dir)
      #expect(separate.status == 0, "\(command): \(separate.stderr)")
      let batchBytes = try Data(contentsOf: dir.appendingPathComponent(job["output"] as! String))
      let ownBytes = try Data(contentsOf: dir.appendingPathComponent(command.last!))
      #expect(batchBytes == ownBytes, "\(job["output"]!) differs from \(command.joined(separator: " "))")
    }
  }

  @Test func resumeSkipsFinishedOutputs() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let jobs = (0..<3).map { ["prompt": "a lighthouse \($0)", "output": "out/\($0).png"] }
    let file = try BatchRun.write(try BatchRun.jsonLines(jobs), "jobs.jsonl", in: dir)
    let arguments = [file, "--model", BatchRun.model] + BatchRun.small
    let first = try BatchRun.run(arguments, in: dir)
    #expect(first.status == 0, "\(first.stderr)")
    let firstBytes = try (0..<3).map { try Data(contentsOf: dir.appendingPathComponent("out/\($0).png")) }

    // As after a task was killed while writing job 1: its output is missing.
    try FileManager.default.removeItem(at: dir.appendingPathComponent("out/1.png"))
    let rerun = try BatchRun.run(arguments, in: dir)
    #expect(rerun.status == 0, "\(rerun.stderr)")
    #expect(try BatchRun.records(rerun.stdout).map { $0["status"] as? String } == ["skipped", "ok", "skipped"])
    #expect(try Data(contentsOf: dir.appendingPathComponent("out/1.png")) == firstBytes[1])

    let forced = try BatchRun.run(arguments + ["--overwrite"], in: dir)
    #expect(try BatchRun.records(forced.stdout).map { $0["status"] as? String } == ["ok", "ok", "ok"])
    #expect(try (0..<3).map { try Data(contentsOf: dir.appendingPathComponent("out/\($0).png")) } == firstBytes)
  }

  /// A batch killed mid-way (a preempted task) leaves finished outputs, complete log lines and no
  /// partial file; running it again makes only what is missing, and the same bytes as one clean run.
  @Test func killedBatchResumes() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let jobs = (0..<6).map { ["prompt": "a lighthouse \($0)", "output": "out/\($0).png"] }
    let file = try BatchRun.write(try BatchRun.jsonLines(jobs), "jobs.jsonl", in: dir)
    // Jobs of about half a second each, so the signal lands while the batch runs.
    let arguments = ["batch", file, "--model", BatchRun.model, "--width", "40", "--height", "40", "--steps", "3", "--threads", "1"]
    let killed = try CLIRunner.run(
      arguments, interrupt: .init(signal: SIGTERM, afterStderr: "wrote out/1.png"), workingDirectory: dir)
    #expect(killed.status == 143, "\(killed.stderr)")
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path))
    #expect(files.allSatisfy { !$0.hasPrefix(".") }, "temporary files left: \(files)")
    #expect(files.count >= 2 && files.count < jobs.count, "\(files.count) outputs before SIGTERM")
    // Every logged job is complete (its output exists); the job written just before the signal may be unlogged.
    for record in try BatchRun.records(killed.stdout) {
      #expect(record["status"] as? String == "ok" && files.contains("\(record["index"] as? Int ?? -1).png"))
    }

    let resumed = try CLIRunner.run(arguments, workingDirectory: dir)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let statuses = try BatchRun.records(resumed.stdout).map { $0["status"] as? String }
    #expect(statuses == (0..<jobs.count).map { files.contains("\($0).png") ? "skipped" : "ok" })

    let clean = dir.appendingPathComponent("clean")
    try FileManager.default.createDirectory(at: clean, withIntermediateDirectories: true)
    #expect(try CLIRunner.run(arguments, workingDirectory: clean).status == 0)
    for i in 0..<jobs.count {
      #expect(try Data(contentsOf: dir.appendingPathComponent("out/\(i).png")) == Data(contentsOf: clean.appendingPathComponent("out/\(i).png")))
    }
  }

  @Test func failingJobsDoNotStopTheBatch() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let lines = [
      #"{"prompt": "first", "output": "out/first.png"}"#,
      #"{"prompt": "broken", "output": "out/broken.png""#,
      #"{"prompt": "x", "output": "out/unknown.png", "colour": "red"}"#,
      #"{"prompt": "x", "output": "out/nomodel.png", "model": "/nonexistent/model"}"#,
      #"{"prompt": "x", "output": "out/width.png", "width": 30}"#,
      #"{"prompt": "x", "output": "-"}"#,
      #"{"prompt": "x"}"#,
      #"{"task": "paint", "prompt": "x", "output": "out/paint.png"}"#,
      #"{"prompt": "last", "output": "out/last.png"}"#,
    ]
    let file = try BatchRun.write(lines.joined(separator: "\n"), "jobs.jsonl", in: dir)
    let result = try BatchRun.run([file, "--model", BatchRun.model] + BatchRun.small, in: dir)
    #expect(result.status == 1)
    let records = try BatchRun.records(result.stdout)
    #expect(records.map { $0["status"] as? String } == ["ok"] + Array(repeating: "error", count: 7) + ["ok"])
    let errors = records.compactMap { $0["error"] as? String }
    let expected = ["not valid JSON", "\"colour\" is not a txt2img option", "/nonexistent/model", "--width must be a multiple of 8",
                    "cannot be used in a batch job", "no \"output\"", "\"paint\" is not"]
    #expect(errors.count == expected.count)
    for (error, part) in zip(errors, expected) {
      #expect(error.contains(part) && !error.contains("\n"), "\(error) should mention \(part)")
    }
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/first.png").path))
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/last.png").path))
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/width.png").path))
  }

  /// Command-line defaults reach the jobs whose subcommand has them; a job's own keys win; null
  /// drops a default; a job without a seed gets --seed + its index.
  @Test func defaultsApplyAndJobKeysWin() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let clip = Fixtures.url("models/clip-tiny").path
    let jobs: [[String: Any]] = [
      ["prompt": "a", "output": "a.png"],
      ["prompt": "-a dash", "steps": 7, "negative_prompt": "", "output": "b.png", "karras": true],
      ["prompt": "c", "output": "c.png", "sampler": NSNull(), "seed": 9],
      ["task": "rank", "clip": clip, "prompt": "c", "images": ["a.png", "b.png"]],
    ]
    let file = try BatchRun.write(try BatchRun.jsonLines(jobs), "jobs.jsonl", in: dir)
    let result = try BatchRun.run(
      [file, "--model", BatchRun.model, "--steps", "3", "--sampler", "ddim", "--precision", "fp32", "--seed", "100",
       "--dry-run"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    let arguments = try BatchRun.records(result.stdout).map { try #require($0["arguments"] as? [String]) }
    let model = ["--model", BatchRun.model]
    #expect(arguments[0] == model + ["--steps", "3", "--sampler", "ddim", "--precision", "fp32", "--output", "a.png",
                                      "--prompt", "a", "--seed", "100"])
    #expect(arguments[1] == model + ["--sampler", "ddim", "--precision", "fp32", "--karras", "--negative-prompt", "",
                                      "--output", "b.png", "--prompt=-a dash", "--steps", "7", "--seed", "101"])
    #expect(arguments[2] == model + ["--steps", "3", "--precision", "fp32", "--output", "c.png", "--prompt", "c",
                                      "--seed", "9"])
    #expect(arguments[3] == ["--precision", "fp32", "--clip", clip, "--prompt", "c", "--", "a.png", "b.png"])
  }

  /// A rank job logs its ranking, the same as `sdedit rank --json` prints.
  @Test func rankJobsLogTheirRanking() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let clip = Fixtures.url("models/clip-tiny").path
    let images = ["clip_50x50.png", "clip_160x100.png", "clip_224x224.png"].map { Fixtures.url("reference/inputs/\($0)").path }
    let file = try BatchRun.write(
      try BatchRun.jsonLines([["task": "rank", "clip": clip, "prompt": "a photo of a cat", "images": images]]), "jobs.jsonl", in: dir)
    let batch = try BatchRun.run([file], in: dir)
    #expect(batch.status == 0, "\(batch.stderr)")
    let record = try #require(try BatchRun.records(batch.stdout).first)
    let ranking = try #require(record["ranking"] as? [[String: Any]])
    let rank = try CLIRunner.run(["rank", "--clip", clip, "--prompt", "a photo of a cat", "--json"] + images)
    let expected = try #require(try JSONSerialization.jsonObject(with: rank.stdout) as? [[String: Any]])
    #expect(ranking.count == images.count)
    #expect(ranking.map { $0["path"] as? String } == expected.map { $0["path"] as? String })
    #expect(ranking.map { ($0["score"] as? NSNumber)?.floatValue } == expected.map { ($0["score"] as? NSNumber)?.floatValue })
  }

  @Test func logFileIsAppendedAndStdoutStaysEmpty() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try BatchRun.write(try BatchRun.jsonLines([["prompt": "a", "output": "a.png"]]), "jobs.jsonl", in: dir)
    let log = dir.appendingPathComponent("log.jsonl").path
    for _ in 0..<2 {
      let result = try BatchRun.run([file, "--model", BatchRun.model, "--log", log] + BatchRun.small, in: dir)
      #expect(result.status == 0, "\(result.stderr)")
      #expect(result.stdout.isEmpty)
    }
    let records = try BatchRun.records(try Data(contentsOf: URL(fileURLWithPath: log)))
    #expect(records.map { $0["status"] as? String } == ["ok", "skipped"])
  }

  @Test func malformedFilesAndDefaultsAreUsageErrors() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let good = try BatchRun.write(#"{"prompt": "a", "output": "a.png"}"#, "good.jsonl", in: dir)
    let files: [(String, Data)] = [
      ("array.jsonl", Data("[\n{\"prompt\": \"a\", \"output\": \"a.png\"},\n{\"prompt\": \"b\", \"output\": \"b.png\"}\n]\n".utf8)),
      ("pretty.jsonl", Data("{\n  \"prompt\": \"a\",\n  \"output\": \"a.png\"\n}\n".utf8)),
      ("empty.jsonl", Data("\n  \n".utf8)),
      ("binary.jsonl", Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF, 0xFE])),
    ]
    for (name, data) in files {
      try data.write(to: dir.appendingPathComponent(name))
      let result = try BatchRun.run([name, "--model", BatchRun.model] + BatchRun.small, in: dir)
      #expect(result.status == 2, "\(name): \(result.stderr)")
      #expect(result.stderr.contains(name) && result.stderr.split(separator: "\n").count == 1, "\(name): \(result.stderr)")
    }
    for arguments in [[good, "--colour", "red"], [good, "-o", "x.png"], [good, "--steps"], [good, "extra.jsonl"], []] {
      let result = try BatchRun.run(arguments, in: dir)
      #expect(result.status == 2, "\(arguments): \(result.stderr)")
    }
    let missing = try BatchRun.run(["missing.jsonl"], in: dir)
    #expect(missing.status == 1 && missing.stderr.contains("missing.jsonl"), "\(missing.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("a.png").path))
  }
}
