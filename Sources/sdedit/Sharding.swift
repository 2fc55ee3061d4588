import ArgumentParser
import Foundation

/// Which jobs of a batch file this process runs: those whose index ≡ `index` (mod `count`), so
/// `count` processes with indices 0…count−1 run every job exactly once, whatever the file's size.
///
/// Chosen, first match wins:
/// 1. `--shard I/N`;
/// 2. `--shards N` with the index from `JOB_COMPLETION_INDEX` (a Kubernetes indexed Job), else
///    from Slurm's array variables as below;
/// 3. a Slurm array task: `SLURM_ARRAY_TASK_COUNT` shards, index
///    (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`) / `SLURM_ARRAY_TASK_STEP` (so `--array=1-8`
///    and `--array=0-30:10` work; the IDs must form one arithmetic range);
/// 4. otherwise the whole file (0/1).
/// `JOB_COMPLETION_INDEX` without `--shards` is refused: the pod cannot know the Job's completions.
struct Shard: Equatable, CustomStringConvertible {
  let index: Int
  let count: Int

  static let whole = Shard(index: 0, count: 1)

  var description: String { "\(index)/\(count)" }

  /// Whether job `job` (0-based) is this shard's.
  func owns(_ job: Int) -> Bool { job % count == index }

  /// Parses `I/N` with 0 ≤ I < N.
  static func parse(_ text: String, source: String = "--shard") throws(ValidationError) -> Shard {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
      throw ValidationError("\(source) \(text): expected I/N, e.g. 0/4 (shard I of N, counted from 0).")
    }
    return try make(index: i, count: n, source: source)
  }

  static func make(index: Int, count: Int, source: String) throws(ValidationError) -> Shard {
    guard count >= 1, count <= 1_000_000 else { throw ValidationError("\(source): the shard count must be between 1 and 1000000 (got \(count)).") }
    guard index >= 0, index < count else {
      throw ValidationError("\(source): shard index \(index) is not in 0…\(count - 1); --shard I/N chooses the shard explicitly.")
    }
    return Shard(index: index, count: count)
  }

  /// The shard this process runs, and where that came from (for the log on stderr).
  static func select(shard: String?, shards: Int?, environment: [String: String]) throws(ValidationError)
    -> (shard: Shard, source: String)
  {
    if let shard {
      guard shards == nil else { throw ValidationError("give --shard I/N or --shards N, not both.") }
      return (try parse(shard), "--shard")
    }
    let completion = environment["JOB_COMPLETION_INDEX"].flatMap { $0.isEmpty ? nil : $0 }
    if let shards {
      if let completion {
        guard let i = Int(completion) else { throw ValidationError("JOB_COMPLETION_INDEX=\(completion) is not a number.") }
        return (try make(index: i, count: shards, source: "JOB_COMPLETION_INDEX with --shards"), "JOB_COMPLETION_INDEX")
      }
      if let slurm = try slurmIndex(environment) {
        return (try make(index: slurm.index, count: shards, source: "SLURM_ARRAY_TASK_ID with --shards"), "SLURM_ARRAY_TASK_ID")
      }
      throw ValidationError("--shards \(shards) needs the shard index from JOB_COMPLETION_INDEX (Kubernetes indexed Job) or SLURM_ARRAY_TASK_ID; or give --shard I/N.")
    }
    if let slurm = try slurmIndex(environment) {
      return (try make(index: slurm.index, count: slurm.count, source: "SLURM_ARRAY_TASK_ID"), "SLURM_ARRAY_TASK_ID")
    }
    if completion != nil {
      throw ValidationError("JOB_COMPLETION_INDEX is set but --shards is not: pass --shards N (the Job's completions), or --shard 0/1 to run every job.")
    }
    return (.whole, "no sharding")
  }

  /// The Slurm array task's position and the array's size, when this is an array task.
  private static func slurmIndex(_ env: [String: String]) throws(ValidationError) -> (index: Int, count: Int)? {
    guard let idText = env["SLURM_ARRAY_TASK_ID"], !idText.isEmpty else { return nil }
    func number(_ name: String) throws(ValidationError) -> Int? {
      guard let text = env[name], !text.isEmpty else { return nil }
      guard let n = Int(text) else { throw ValidationError("\(name)=\(text) is not a number.") }
      return n
    }
    guard let id = try number("SLURM_ARRAY_TASK_ID") else { return nil }
    guard let count = try number("SLURM_ARRAY_TASK_COUNT") else {
      throw ValidationError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give --shard I/N.")
    }
    let min = try number("SLURM_ARRAY_TASK_MIN") ?? 0
    let step = max(1, try number("SLURM_ARRAY_TASK_STEP") ?? 1)
    guard (id - min) % step == 0 else {
      throw ValidationError("SLURM_ARRAY_TASK_ID=\(id) is not on the array's range (min \(min), step \(step)); give --shard I/N.")
    }
    return ((id - min) / step, count)
  }
}
