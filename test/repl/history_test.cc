// Tests of the history format (test/util/history.h, test/util/json.h,
// docs/history.md): the JSON reader's strictness, the writer's lines read back
// event for event, reader errors naming the line, the writer's guards against
// misuse, concurrent recording, and build/kvcheck's output and exit codes.
#include "test/util/history.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "test/repl/repl_test_util.h"
#include "test/util/history_checker.h"
#include "test/util/json.h"
#include "test/util/kvnode_process.h"
#include "test/util/test_util.h"

namespace kvring::test {
namespace {

using repl::testing::D;

// --- JSON -------------------------------------------------------------------------------

TEST(HistoryJson, StringsKeepEscapesUnicodeAndRawBytes) {
  base::Result<JsonValue> v = ParseJson(R"(["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u65e5", "\ud83d\ude00", "raw é"])");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ("a\"b\\c/d\b\f\n\r\t", v->array()[0].string_value());
  EXPECT_EQ("\xc3\xa9\xe6\x97\xa5", v->array()[1].string_value());
  EXPECT_EQ("\xf0\x9f\x98\x80", v->array()[2].string_value());  // a surrogate pair joined
  EXPECT_EQ("raw \xc3\xa9", v->array()[3].string_value());

  // Every byte string survives writing and reading back, control bytes and
  // bytes that are not UTF-8 included.
  std::string bytes;
  for (int c = 1; c < 256; ++c) bytes.push_back(static_cast<char>(c));
  std::string text;
  AppendJsonString(&text, bytes);
  EXPECT_EQ(std::string::npos, text.find('\n'));
  base::Result<JsonValue> back = ParseJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(bytes, back->string_value());
}

TEST(HistoryJson, IntegersBoolsNullAndNesting) {
  base::Result<JsonValue> v = ParseJson(R"( {"a": -9223372036854775808, "b": 9223372036854775807, "c": [true, false, null, {}], "d": 0} )");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(INT64_MIN, v->Find("a")->int_value());
  EXPECT_EQ(INT64_MAX, v->Find("b")->int_value());
  EXPECT_TRUE(v->Find("c")->array()[0].bool_value());
  EXPECT_TRUE(v->Find("c")->array()[2].is_null());
  EXPECT_TRUE(v->Find("c")->array()[3].is_object());
  EXPECT_EQ(0, v->Find("d")->int_value());
  EXPECT_EQ(nullptr, v->Find("e"));
  EXPECT_EQ(R"({"a":-9223372036854775808,"b":9223372036854775807,"c":[true,false,null,{}],"d":0})", JsonText(*v));
}

TEST(HistoryJson, RejectsWhatTheFormatDoesNotAllow) {
  const char* bad[] = {
      "",                       // nothing
      "{\"a\":1} x",            // trailing text
      "{\"a\":1,\"a\":2}",      // duplicate member
      "1.5",                    // not an integer
      "1e3",                    // exponent
      "01",                     // leading zero
      "9223372036854775808",    // past int64
      "-9223372036854775809",   // past int64
      "\"a\nb\"",               // raw control character
      "\"\\ud800\"",            // lone high surrogate
      "\"\\udc00\"",            // lone low surrogate
      "\"\\x41\"",              // unknown escape
      "\"\\u12g4\"",            // bad hex
      "\"open",                 // unterminated
      "[1,]",                   // trailing comma
      "{\"a\" 1}",              // missing colon
      "{a:1}",                  // unquoted name
      "tru",                    // bad literal
      "NaN",
  };
  for (const char* text : bad) {
    base::Result<JsonValue> v = ParseJson(text);
    EXPECT_FALSE(v.ok()) << "accepted: " << text;
    if (!v.ok()) {
      EXPECT_NE(std::string::npos, v.status().message().find("column ")) << v.status().ToString();
    }
  }
  EXPECT_FALSE(ParseJson(std::string(65, '[') + std::string(65, ']')).ok());
  EXPECT_TRUE(ParseJson(std::string(64, '[') + std::string(64, ']')).ok());
}

// --- Lines ------------------------------------------------------------------------------

TEST(HistoryFormat, LinesReadTheWayTheDocShowsThem) {
  HistoryHeader header{.n = 3, .max_siblings = 64, .note = "free text"};
  EXPECT_EQ(R"({"type":"header","version":1,"n":3,"max_siblings":64,"note":"free text"})", HeaderJson(header));

  HistoryEvent put{.type = EventType::kInvoke, .process = 1, .op = OpKind::kPut, .key = "k", .time_us = 17};
  put.value = "v";
  put.context = HistoryContext{{"n1", 3}};
  put.w = 2;
  EXPECT_EQ(R"({"type":"invoke","process":1,"op":"put","key":"k","time_us":17,"value":"v","context":{"n1":3},)"
            R"("overwrite":false,"w":2,"strict":false,"session":false})",
            EventJson(put));

  HistoryEvent get{.type = EventType::kInvoke, .process = 2, .op = OpKind::kGet, .key = "k", .time_us = 18};
  get.r = ConsistencyLevel::Quorum();
  get.strict = true;
  get.final_read = true;
  EXPECT_EQ(R"({"type":"invoke","process":2,"op":"get","key":"k","time_us":18,"r":"quorum","strict":true,)"
            R"("session":false,"final":true})",
            EventJson(get));

  HistoryEvent ok{.type = EventType::kOk, .process = 2, .op = OpKind::kGet, .key = "k", .time_us = 19};
  ok.values = {ReadValue{"v", D("n1:4")}};
  ok.context = HistoryContext{{"n1", 4}, {"n2", 1}};
  EXPECT_EQ(R"({"type":"ok","process":2,"op":"get","key":"k","time_us":19,"values":[{"value":"v","dot":"n1:4"}],)"
            R"("context":{"n1":4,"n2":1}})",
            EventJson(ok));
}

// A clock the test moves.
class StepClock final : public base::Clock {
 public:
  uint64_t NowMicros() const override { return now_ += 7; }
  uint64_t WallMicros() const override { return now_; }
  void SleepMicros(uint64_t micros) override { now_ += micros; }

 private:
  mutable uint64_t now_ = 100;
};

TEST(HistoryFormat, WhatTheWriterRecordsReadsBackEventForEvent) {
  TempDir dir;
  const std::string path = dir.Sub("history.jsonl");
  StepClock clock;
  const HistoryHeader header{.n = 3, .max_siblings = 64, .note = "round trip \"quoted\"\n"};
  auto writer = HistoryWriter::Create(path, header, &clock);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  HistoryWriter& w = **writer;

  const std::string odd_key = std::string("key \"\\\n\t\x01 \xc3\xa9 \xff", 14);
  PendingWrite put = w.InvokePut(1, odd_key, "value\x02\xfe", HistoryContext{{"n1#2", 3}, {"n2", 1}},
                                 {.w = 2, .strict = true, .session = true});
  w.Ok(std::move(put), D("n1#2:4"), {"n1#2", "n2"});
  PendingWrite del = w.InvokeDelete(2, odd_key, std::nullopt, {.overwrite = true, .w = ConsistencyLevel::Quorum()});
  w.Fail(std::move(del), "Unavailable: quorum not reached");
  PendingRead get = w.InvokeGet(3, odd_key, {.r = ConsistencyLevel::All(), .strict = true, .final_read = true});
  w.Ok(std::move(get), {ReadValue{"value\x02\xfe", D("n1#2:4")}, ReadValue{"x", D("n3:1")}},
       HistoryContext{{"n1#2", 4}, {"n3", 1}});
  PendingRead missing = w.InvokeGet(3, "gone", {.r = ConsistencyLevel::One()});
  w.Ok(std::move(missing), {}, std::nullopt);
  PendingWrite late = w.InvokePut(4, "k", "v", HistoryContext{}, {.w = 1});
  w.Info(std::move(late), "TimedOut");
  { PendingRead dropped = w.InvokeGet(5, "k", {}); }  // abandoned: recorded as info
  ASSERT_TRUE(w.Close().ok()) << w.status().ToString();

  base::Result<History> read = ReadHistory(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const History recorded = w.Snapshot();
  EXPECT_EQ(header, read->header);
  ASSERT_EQ(12u, read->events.size());
  EXPECT_EQ(recorded.events, read->events);
  for (size_t i = 0; i < read->events.size(); ++i) {
    EXPECT_EQ(static_cast<int>(i) + 2, read->events[i].line);
    if (i > 0) {
      EXPECT_LT(read->events[i - 1].time_us, read->events[i].time_us);
    }
  }
  EXPECT_EQ(EventType::kInfo, read->events.back().type);
  EXPECT_NE(std::string::npos, read->events.back().error.find("abandoned"));
  EXPECT_EQ(ConsistencyLevel::Quorum(), read->events[2].w);
  EXPECT_EQ("n1#2", read->events[1].dot.node);

  // One line per event, and nothing else.
  std::string text;
  ASSERT_TRUE(base::ReadFileToString(base::Env::Default(), path, &text).ok());
  EXPECT_EQ(13, std::count(text.begin(), text.end(), '\n'));
}

TEST(HistoryFormat, ReaderAcceptsNamedLevelsInAnyCaseAndIgnoresUnknownFields) {
  const std::string text =
      R"({"type":"header","version":1,"n":5,"extra":[1,2]})"
      "\n"
      R"({"type":"invoke","process":7,"op":"get","key":"k","time_us":1,"r":"QUORUM","future":{"x":1}})"
      "\n"
      R"({"type":"ok","process":7,"op":"get","key":"k","time_us":2,"values":[],"context":{"n1":0,"n2":3}})";
  base::Result<History> h = ParseHistory(text);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(5, h->header.n);
  EXPECT_EQ(0, h->header.max_siblings);
  ASSERT_EQ(2u, h->events.size());
  EXPECT_EQ(3, h->events[0].r.Resolve(h->header.n));
  EXPECT_FALSE(h->events[0].strict);
  EXPECT_EQ((HistoryContext{{"n2", 3}}), h->events[1].context);  // a zero counter is no entry
}

TEST(HistoryFormat, ReaderErrorsNameTheLine) {
  const std::string header = R"({"type":"header","version":1,"n":3,"max_siblings":64,"note":""})";
  const std::string invoke = R"({"type":"invoke","process":1,"op":"get","key":"k","time_us":5})";
  struct Case {
    std::string text;
    std::string want;
  } cases[] = {
      {"", "line 1: empty file"},
      {R"({"type":"invoke"})", "line 1: field \"type\": line 1 must be the header"},
      {R"({"type":"header","version":2})", "line 1: field \"version\": unsupported history version 2"},
      {header + "\n" + invoke + "\n\n" + invoke, "line 3: empty line"},
      {header + "\n" + invoke + "\n" + "{\"type\":", "line 3: column 9: unexpected end of input"},
      {header + "\n[1,2]", "line 2: want a JSON object, got array"},
      {header + "\n" + header, "line 2: field \"type\": a header is only allowed on line 1"},
      {header + "\n" + R"({"type":"begin","process":1,"op":"get","key":"k","time_us":5})", "line 2: field \"type\": unknown type \"begin\""},
      {header + "\n" + R"({"type":"invoke","process":"1","op":"get","key":"k","time_us":5})", "line 2: field \"process\": want an integer, got string"},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"cas","key":"k","time_us":5})", "line 2: field \"op\": unknown op \"cas\""},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"get","time_us":5})", "line 2: field \"key\": missing"},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"get","key":"k","time_us":-1})", "line 2: field \"time_us\": below 0"},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"get","key":"k","time_us":1.5})", "line 2: column 62: numbers must be integers"},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"put","key":"k","time_us":5})", "line 2: field \"value\": missing"},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"put","key":"k","time_us":5,"value":"v","context":[1]})", "line 2: field \"context\": want an object"},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"put","key":"k","time_us":5,"value":"v","context":{"n1":-1}})", "line 2: field \"context\": node \"n1\": want a counter >= 0"},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"put","key":"k","time_us":5,"value":"v","w":"most"})", "line 2: field \"w\": unknown level \"most\""},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"put","key":"k","time_us":5,"value":"v","w":0})", "line 2: field \"w\": want a replica count >= 1"},
      {header + "\n" + R"({"type":"invoke","process":1,"op":"get","key":"k","time_us":5,"final":"yes"})", "line 2: field \"final\": want true or false, got string"},
      {header + "\n" + R"({"type":"ok","process":1,"op":"put","key":"k","time_us":5})", "line 2: field \"dot\": missing"},
      {header + "\n" + R"({"type":"ok","process":1,"op":"put","key":"k","time_us":5,"dot":"n1"})", "line 2: field \"dot\": bad dot \"n1\""},
      {header + "\n" + R"({"type":"ok","process":1,"op":"put","key":"k","time_us":5,"dot":"n1:0"})", "line 2: field \"dot\": bad dot \"n1:0\""},
      {header + "\n" + R"({"type":"ok","process":1,"op":"put","key":"k","time_us":5,"dot":":3"})", "line 2: field \"dot\": bad dot \":3\""},
      {header + "\n" + invoke + "\n" + R"({"type":"ok","process":1,"op":"get","key":"k","time_us":6})", "line 3: field \"values\": missing"},
      {header + "\n" + invoke + "\n" + R"({"type":"ok","process":1,"op":"get","key":"k","time_us":6,"values":[{"value":"v"}]})", "line 3: values[0]: field \"dot\": missing"},
  };
  for (const Case& c : cases) {
    base::Result<History> h = ParseHistory(c.text);
    ASSERT_FALSE(h.ok()) << "accepted: " << c.text;
    EXPECT_EQ(0u, h.status().message().find(c.want)) << "got: " << h.status().message() << "\nwant: " << c.want;
  }
  // A dot splits on its last ':' (node ids may carry '#', e.g. an epoch).
  base::Result<History> h =
      ParseHistory(header + "\n" + R"({"type":"ok","process":1,"op":"put","key":"k","time_us":5,"dot":"n1#2:3"})");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(D("n1#2:3"), h->events[0].dot);
}

TEST(HistoryFormat, ReadHistoryNamesThePath) {
  TempDir dir;
  const std::string path = dir.Sub("bad.jsonl");
  ASSERT_TRUE(base::WriteStringToFileAtomic(base::Env::Default(), "{\"type\":\"header\",\"version\":1}\nnope\n", path).ok());
  base::Result<History> h = ReadHistory(path);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(path + ": line 2: column 1: unexpected character 'n' (want a value)", h.status().message());
  EXPECT_FALSE(ReadHistory(dir.Sub("absent.jsonl")).ok());
}

// --- The writer's guards --------------------------------------------------------------

TEST(HistoryWriter, ACompletionThroughASpentHandleIsAnErrorAndWritesNothing) {
  auto w = HistoryWriter::InMemory({.n = 3});
  PendingWrite put = w->InvokePut(1, "k", "v", std::nullopt, {.overwrite = true});
  PendingWrite moved = std::move(put);
  EXPECT_FALSE(put.pending());
  EXPECT_TRUE(moved.pending());
  w->Ok(std::move(moved), D("n1:1"));
  EXPECT_TRUE(w->status().ok());
  w->Ok(std::move(moved), D("n1:2"));  // twice
  EXPECT_FALSE(w->status().ok());
  EXPECT_NE(std::string::npos, w->status().message().find("not pending")) << w->status().ToString();
  EXPECT_EQ(2u, w->Snapshot().events.size());
}

TEST(HistoryWriter, AHandleOfAnotherWriterIsRefused) {
  auto a = HistoryWriter::InMemory({});
  auto b = HistoryWriter::InMemory({});
  PendingRead get = a->InvokeGet(1, "k", {});
  b->Ok(std::move(get), {}, std::nullopt);
  EXPECT_FALSE(b->status().ok());
  EXPECT_TRUE(get.pending());  // still a's, and still pending
  a->Ok(std::move(get), {}, std::nullopt);
  EXPECT_TRUE(a->status().ok());
  EXPECT_EQ(0u, b->Snapshot().events.size());
}

TEST(HistoryWriter, AMalformedDotIsRecordedAsAnUnknownOutcome) {
  auto w = HistoryWriter::InMemory({.n = 3});
  w->Ok(w->InvokePut(1, "k", "v", std::nullopt, {}), repl::Dot{"", 3});
  w->Ok(w->InvokeGet(1, "k", {}), {ReadValue{"v", repl::Dot{"n1", 0}}}, HistoryContext{});
  EXPECT_FALSE(w->status().ok());
  const History h = w->Snapshot();
  ASSERT_EQ(4u, h.events.size());
  EXPECT_EQ(EventType::kInfo, h.events[1].type);
  EXPECT_EQ(EventType::kInfo, h.events[3].type);
  // The file stays readable: every line parses back.
  std::string text = HeaderJson(h.header) + "\n";
  for (const HistoryEvent& e : h.events) text += EventJson(e) + "\n";
  EXPECT_TRUE(ParseHistory(text).ok());
}

TEST(HistoryWriter, AfterCloseNothingMoreIsRecorded) {
  TempDir dir;
  auto w = HistoryWriter::Create(dir.Sub("h.jsonl"), {.n = 3});
  ASSERT_TRUE(w.ok());
  PendingRead get = (*w)->InvokeGet(1, "k", {});
  ASSERT_TRUE((*w)->Close().ok());
  (*w)->Ok(std::move(get), {}, std::nullopt);  // dropped
  base::Result<History> h = ReadHistory(dir.Sub("h.jsonl"));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(1u, h->events.size());
}

TEST(HistoryWriter, ConcurrentProcessesRecordWholeLinesInTimeOrder) {
  TempDir dir;
  const std::string path = dir.Sub("h.jsonl");
  auto writer = HistoryWriter::Create(path, {.n = 3, .max_siblings = 64});
  ASSERT_TRUE(writer.ok());
  HistoryWriter* w = writer->get();
  constexpr int kThreads = 4;
  constexpr int kOps = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([w, t] {
      const std::string node = "n" + std::to_string(t + 1);
      for (int i = 0; i < kOps; ++i) {
        const std::string value = "p" + std::to_string(t) + "-" + std::to_string(i);
        w->Ok(w->InvokePut(t, "k" + std::to_string(i % 3), value, HistoryContext{}, {.w = 1}),
              repl::Dot{node, static_cast<uint64_t>(i + 1)});
        w->Ok(w->InvokeGet(t, "k", {.r = 1}), {}, std::nullopt);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(w->Close().ok()) << w->status().ToString();
  base::Result<History> h = ReadHistory(path);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(static_cast<size_t>(kThreads * kOps * 4), h->events.size());
  for (size_t i = 1; i < h->events.size(); ++i) ASSERT_LE(h->events[i - 1].time_us, h->events[i].time_us);
  const CheckReport report = CheckHistory(*h);
  EXPECT_TRUE(report.clean()) << ReportText(report);
  EXPECT_EQ(static_cast<size_t>(kThreads * kOps * 2), report.counts.ops);
}

// --- kvcheck ------------------------------------------------------------------------------

class HistoryKvcheck : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!base::Env::Default()->FileExists(BinaryPath("kvcheck"))) {
      FAIL() << BinaryPath("kvcheck") << " is missing: make -j2 build/kvcheck";
    }
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.Sub(name);
    EXPECT_TRUE(base::WriteStringToFileAtomic(base::Env::Default(), text, path).ok());
    return path;
  }
  static std::string Lines(const std::vector<HistoryEvent>& events) {
    std::string s = HeaderJson({.n = 3, .max_siblings = 64}) + "\n";
    for (const HistoryEvent& e : events) s += EventJson(e) + "\n";
    return s;
  }

  TempDir dir_;
};

TEST_F(HistoryKvcheck, ExitsZeroOnACleanHistoryOneOnAViolationTwoOnABadFile) {
  auto w = HistoryWriter::InMemory({.n = 3, .max_siblings = 64});
  w->Ok(w->InvokePut(1, "k", "a", HistoryContext{}, {.w = 2}), D("n1:1"));
  w->Ok(w->InvokeGet(2, "k", {.r = 3, .final_read = true}), {ReadValue{"a", D("n1:1")}}, HistoryContext{{"n1", 1}});
  History h = w->Snapshot();
  const std::string clean = Write("clean.jsonl", Lines(h.events));
  h.events[3].values.clear();  // the final read lost "a"
  const std::string lost = Write("lost.jsonl", Lines(h.events));
  const std::string bad = Write("bad.jsonl", Lines(h.events) + "{\"type\":\"ok\"}\n");

  ProgramResult r = RunProgram({BinaryPath("kvcheck"), clean});
  EXPECT_EQ(0, r.exit_code) << r.ToString();
  EXPECT_NE(std::string::npos, r.out.find("result: clean")) << r.ToString();

  r = RunProgram({BinaryPath("kvcheck"), lost});
  EXPECT_EQ(1, r.exit_code) << r.ToString();
  EXPECT_NE(std::string::npos, r.out.find("lost key \"k\" [lines 2,3,4,5]")) << r.ToString();

  r = RunProgram({BinaryPath("kvcheck"), lost, "--json"});
  EXPECT_EQ(1, r.exit_code) << r.ToString();
  base::Result<JsonValue> json = ParseJson(r.out);
  ASSERT_TRUE(json.ok()) << json.status().ToString() << "\n" << r.out;
  EXPECT_EQ(1, json->Find("violation_counts")->Find("lost")->int_value());

  r = RunProgram({BinaryPath("kvcheck"), bad});
  EXPECT_EQ(2, r.exit_code) << r.ToString();
  EXPECT_NE(std::string::npos, r.err.find("line 6: field \"process\": missing")) << r.ToString();

  r = RunProgram({BinaryPath("kvcheck"), dir_.Sub("absent.jsonl")});
  EXPECT_EQ(2, r.exit_code) << r.ToString();
  r = RunProgram({BinaryPath("kvcheck")});
  EXPECT_EQ(2, r.exit_code) << r.ToString();
  r = RunProgram({BinaryPath("kvcheck"), clean, "--frobnicate"});
  EXPECT_EQ(2, r.exit_code) << r.ToString();
  r = RunProgram({BinaryPath("kvcheck"), "-"}, Lines(w->Snapshot().events));  // stdin
  EXPECT_EQ(0, r.exit_code) << r.ToString();
}

}  // namespace
}  // namespace kvring::test
