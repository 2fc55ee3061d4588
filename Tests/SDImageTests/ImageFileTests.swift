import Foundation
import SDImage
import SDTestSupport
import Testing

/// File reading, atomic writing, and format choice by extension.
@Suite struct ImageFileTests {
  @Test func writesAndReadsBack() throws {
    let dir = try Fixtures.temporaryDirectory("sdimage")
    defer { try? FileManager.default.removeItem(at: dir) }
    let image = ImageFixtures.pattern(width: 20, height: 10, channels: 3)
    let png = dir.appendingPathComponent("a.png").path
    let jpg = dir.appendingPathComponent("b.JPG").path
    let other = dir.appendingPathComponent("c.out").path
    try ImageFile.write(image, to: png, text: [("parameters", "x")])
    try ImageFile.write(image, to: jpg, quality: 95)
    try ImageFile.write(image, to: other)
    #expect(try ImageFile.read(path: png) == image)
    #expect(try ImageFile.readWithMetadata(path: png).text.first?.value == "x")
    #expect(try ImageFile.readWithMetadata(path: jpg).format == .jpeg)
    #expect(try ImageFile.readWithMetadata(path: other).format == .png)  // unknown extension → PNG
    try ImageFile.write(image, to: other, format: .jpeg)
    #expect(try ImageFile.readWithMetadata(path: other).format == .jpeg)
    #expect(try leftovers(in: dir).isEmpty)
  }

  @Test func overwritesAtomicallyAndKeepsMode() throws {
    let dir = try Fixtures.temporaryDirectory("sdimage")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("x.png").path
    try AtomicFile.write(Data("old".utf8), to: path)
    try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
    try AtomicFile.write(Data("new content".utf8), to: path)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("new content".utf8))
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode == 0o640)
  }

  @Test func missingFolderFailsWithoutLeftovers() throws {
    let dir = try Fixtures.temporaryDirectory("sdimage")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("no/such/folder/out.png").path
    let image = ImageFixtures.pattern(width: 4, height: 4, channels: 3)
    #expect(throws: FileError.self) { try ImageFile.write(image, to: path) }
    do {
      try AtomicFile.write(Data([1, 2, 3]), to: path)
    } catch {
      #expect("\(error)" == "\(path): cannot write (No such file or directory)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }

  @Test func failedRenameKeepsTargetAndRemovesTemporary() throws {
    let dir = try Fixtures.temporaryDirectory("sdimage")
    defer { try? FileManager.default.removeItem(at: dir) }
    // The target is a non-empty folder: the temporary file is written, the rename must fail.
    let target = dir.appendingPathComponent("taken.png")
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
    try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))
    #expect(throws: FileError.self) { try AtomicFile.write(Data("new".utf8), to: target.path) }
    #expect(try leftovers(in: dir).isEmpty)
    #expect(try Data(contentsOf: target.appendingPathComponent("inside")) == Data("keep".utf8))
  }

  @Test func encodingFailureLeavesOldFileIntact() throws {
    let dir = try Fixtures.temporaryDirectory("sdimage")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("keep.png").path
    let image = ImageFixtures.pattern(width: 4, height: 4, channels: 3)
    try ImageFile.write(image, to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(throws: ImageError.self) { try ImageFile.write(image, to: path, text: [(" bad key", "v")]) }
    #expect(throws: ImageError.self) { try ImageFile.write(image, to: path, format: .jpeg, quality: 0) }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    #expect(try leftovers(in: dir).isEmpty)
  }

  @Test func readErrorsNameTheFile() throws {
    let dir = try Fixtures.temporaryDirectory("sdimage")
    defer { try? FileManager.default.removeItem(at: dir) }
    let missing = dir.appendingPathComponent("missing.png").path
    #expect(throws: FileError.cannotRead(path: missing, reason: "No such file or directory")) {
      try ImageFile.read(path: missing)
    }
    #expect(throws: FileError.cannotRead(path: dir.path, reason: "is a directory")) {
      try ImageFile.read(path: dir.path)
    }
    let text = dir.appendingPathComponent("notes.png")
    try Data("hello".utf8).write(to: text)
    #expect(throws: ImageError.unknownFormat(name: text.path, prefix: Array("hell".utf8))) {
      try ImageFile.read(path: text.path)
    }
  }

  /// Temporary files the atomic writer would leave behind.
  private func leftovers(in dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".sdedit-tmp-") }
  }
}
