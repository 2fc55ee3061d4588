import Foundation
@testable import SDImage
import SDTestSupport
import Testing

/// AtomicFile on unusual targets, and whole-stream reads.
@Suite struct AtomicFileTests {
  @Test func symlinkIsWrittenThrough() throws {
    let dir = try Fixtures.temporaryDirectory("sdimage")
    defer { try? FileManager.default.removeItem(at: dir) }
    let real = dir.appendingPathComponent("real.png").path
    let link = dir.appendingPathComponent("link.png").path
    try AtomicFile.write(Data("one".utf8), to: real)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
    try AtomicFile.write(Data("two".utf8), to: link)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == real)
    #expect(try Data(contentsOf: URL(fileURLWithPath: real)) == Data("two".utf8))
  }

  @Test func deviceIsWrittenNotReplaced() throws {
    try AtomicFile.write(Data("discarded".utf8), to: "/dev/null")
    var info = stat()
    #expect(stat("/dev/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
  }

  @Test func readAllDrainsAPipe() throws {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    let payload = Data((0..<100_000).map { UInt8($0 % 251) })
    let writeEnd = fds[1]
    let writer = Thread {
      try? FileIO.writeAll(fd: writeEnd, payload, path: "pipe")
      close(writeEnd)
    }
    writer.start()
    let read = try FileIO.readAll(fd: fds[0], path: "stdin")
    close(fds[0])
    #expect(read == payload)
  }
}
