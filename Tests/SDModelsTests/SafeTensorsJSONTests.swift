import Testing

@testable import SDModels

/// The strict header JSON reader (`HeaderJSON`).
@Suite struct SafeTensorsJSONTests {
  func parse(_ text: String) throws(HeaderJSON.ParseError) -> HeaderJSON { try HeaderJSON.parse(Array(text.utf8)) }

  @Test func values() throws {
    #expect(
      try parse(#" { "a" : [1, -2.5e3, true, false, null, "x"], "b": {} } "#)
        == .object([
          ("a", .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null, .string("x")])),
          ("b", .object([])),
        ]))
    #expect(try parse("9223372036854775807").integer == Int.max)
    #expect(try parse("9223372036854775808").integer == nil)
    #expect(try parse("-0").integer == 0)
    #expect(try parse("1.0").integer == nil)
  }

  @Test func stringEscapes() throws {
    #expect(try parse(#""a\"b\\c\/d\n\t\u00fc\ud83d\ude00""#) == .string("a\"b\\c/d\n\tü😀"))
    #expect(try parse("\"ü😀\"") == .string("ü😀"))
    for bad in [#""\ud83d""#, #""\ude00""#, #""\x""#, #""\u12""#, "\"abc", "\"a\u{7}\""] {
      #expect(throws: HeaderJSON.ParseError.self, "\(bad)") { try parse(bad) }
    }
  }

  @Test func rejectsNonStandardJSON() {
    let cases = ["", "{,}", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "1e", "NaN", "Infinity", "tru", "{\"a\"}", "[1 2]"]
    for bad in cases + ["{} {}"] {
      #expect(throws: HeaderJSON.ParseError.self, "\(bad)") { try parse(bad) }
    }
  }

  @Test func duplicateKeysReportDepth() {
    do throws(HeaderJSON.ParseError) {
      _ = try parse(#"{"x": {"k": 1, "k": 2}}"#)
      Issue.record("expected a duplicate-key error")
    } catch {
      #expect(error.duplicateKey?.key == "k" && error.duplicateKey?.depth == 2)
    }
  }
}
