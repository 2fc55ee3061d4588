import SDTensor

/// Where a generation stands, reported after each sampler step. The library never prints;
/// the CLI renders it. Returning false from the handler cancels the run.
public struct Progress: Sendable {
  public enum Phase: String, Sendable { case encoding = "encode prompt", sampling, decoding }
  public var phase: Phase
  /// Steps done and the total, in `sampling`.
  public var step: Int
  public var stepCount: Int
  /// The latents after this step, in `sampling` (for previews).
  public var latents: Tensor?

  public init(phase: Phase, step: Int, stepCount: Int, latents: Tensor? = nil) {
    self.phase = phase
    self.step = step
    self.stepCount = stepCount
    self.latents = latents
  }
}

public typealias ProgressHandler = (Progress) -> Bool

/// Thrown when a progress handler asked to stop.
public struct CancelledError: Error, CustomStringConvertible {
  public init() {}
  public var description: String { "cancelled" }
}
