// Pickle subset reader (layers/pickle.h). The byte strings are pickles
// written by Python 3's pickle.dumps (protocol 2 or 4, as noted), pasted as
// literals.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Pickle*'
#include <gtest/gtest.h>

#include "layers/pickle.h"
#include "tensor/error.h"

namespace sirs {
namespace {

template <size_t N>
PyPtr load(const char (&bytes)[N], const std::set<std::string>& allowed = {}) {
  return unpickle(std::make_shared<const std::string>(bytes, N - 1), "test pickle", allowed);
}

template <size_t N>
std::string error_of(const char (&bytes)[N], const std::set<std::string>& allowed = {}) {
  try {
    load(bytes, allowed);
  } catch (const IOError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Pickle, ScalarsContainersProtocol2) {
  // pickle.dumps({'a': [1, -2, 300, 70000, 3.5, None, True, False, 'x\u00e9',
  //   (1,), (1, 2), (1, 2, 3), ()], 'big': 1 << 40, 'neg': -(1 << 40), 'm1': -1}, protocol=2)
  const char p[] =
      "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x61\x71\x01\x5d\x71\x02\x28\x4b\x01\x4a\xfe\xff\xff"
      "\xff\x4d\x2c\x01\x4a\x70\x11\x01\x00\x47\x40\x0c\x00\x00\x00\x00\x00\x00\x4e\x88\x89\x58\x03\x00"
      "\x00\x00\x78\xc3\xa9\x71\x03\x4b\x01\x85\x71\x04\x4b\x01\x4b\x02\x86\x71\x05\x4b\x01\x4b\x02\x4b"
      "\x03\x87\x71\x06\x29\x65\x58\x03\x00\x00\x00\x62\x69\x67\x71\x07\x8a\x06\x00\x00\x00\x00\x00\x01"
      "\x58\x03\x00\x00\x00\x6e\x65\x67\x71\x08\x8a\x06\x00\x00\x00\x00\x00\xff\x58\x02\x00\x00\x00\x6d"
      "\x31\x71\x09\x4a\xff\xff\xff\xff\x75\x2e";
  PyPtr v = load(p);
  ASSERT_TRUE(v->is(PyValue::Kind::Dict));
  ASSERT_EQ(v->dict.size(), 4u);
  EXPECT_EQ(v->dict[0].first->s, "a");
  const PyValue* a = v->get("a");
  ASSERT_TRUE(a && a->is(PyValue::Kind::List));
  ASSERT_EQ(a->items.size(), 13u);
  EXPECT_EQ(a->items[0]->i, 1);
  EXPECT_EQ(a->items[1]->i, -2);
  EXPECT_EQ(a->items[2]->i, 300);
  EXPECT_EQ(a->items[3]->i, 70000);
  EXPECT_TRUE(a->items[4]->is(PyValue::Kind::Float));
  EXPECT_EQ(a->items[4]->f, 3.5);
  EXPECT_TRUE(a->items[5]->is(PyValue::Kind::None));
  EXPECT_TRUE(a->items[6]->is(PyValue::Kind::Bool));
  EXPECT_EQ(a->items[6]->i, 1);
  EXPECT_EQ(a->items[7]->i, 0);
  EXPECT_EQ(a->items[8]->s, "x\xc3\xa9");
  for (size_t n = 0; n <= 3; ++n) {
    const PyValue& t = *a->items[n == 0 ? 12 : 8 + n];
    ASSERT_TRUE(t.is(PyValue::Kind::Tuple));
    ASSERT_EQ(t.items.size(), n);
    for (size_t k = 0; k < n; ++k) EXPECT_EQ(t.items[k]->i, int64_t(k + 1));
  }
  EXPECT_EQ(v->get("big")->i, int64_t(1) << 40);
  EXPECT_EQ(v->get("neg")->i, -(int64_t(1) << 40));
  EXPECT_EQ(v->get("m1")->i, -1);
  EXPECT_EQ(v->get("nope"), nullptr);
}

TEST(Pickle, MemoSharesObjects) {
  // x = [7]; pickle.dumps([x, x], protocol=2)
  const char p[] = "\x80\x02\x5d\x71\x00\x28\x5d\x71\x01\x4b\x07\x61\x68\x01\x65\x2e";
  PyPtr v = load(p);
  ASSERT_EQ(v->items.size(), 2u);
  EXPECT_EQ(v->items[0].get(), v->items[1].get());
  EXPECT_EQ(v->items[0]->items[0]->i, 7);
}

TEST(Pickle, Protocol4OrderedDictAndBytes) {
  // pickle.dumps(OrderedDict([('k', 1), ('j', b'\x00\xffab')]), protocol=4):
  // FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, SHORT_BINBYTES.
  const char p[] =
      "\x80\x04\x95\x35\x00\x00\x00\x00\x00\x00\x00\x8c\x0b\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73"
      "\x94\x8c\x0b\x4f\x72\x64\x65\x72\x65\x64\x44\x69\x63\x74\x94\x93\x94\x29\x52\x94\x28\x8c\x01\x6b"
      "\x94\x4b\x01\x8c\x01\x6a\x94\x43\x04\x00\xff\x61\x62\x94\x75\x2e";
  PyPtr v = load(p);
  ASSERT_TRUE(v->is(PyValue::Kind::Dict));
  ASSERT_EQ(v->dict.size(), 2u);
  EXPECT_EQ(v->dict[0].first->s, "k");
  EXPECT_EQ(v->dict[1].first->s, "j");
  EXPECT_EQ(v->get("k")->i, 1);
  ASSERT_TRUE(v->get("j")->is(PyValue::Kind::Bytes));
  EXPECT_EQ(v->get("j")->text(), std::string("\x00\xff" "ab", 4));
}

TEST(Pickle, Python3BytesUnderProtocol2) {
  // pickle.dumps(b'\x00\xff', protocol=2) == _codecs.encode('\x00\xff', 'latin1')
  const char p[] =
      "\x80\x02\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65\x6e\x63\x6f\x64\x65\x0a\x71\x00\x58\x03\x00\x00"
      "\x00\x00\xc3\xbf\x71\x01\x58\x06\x00\x00\x00\x6c\x61\x74\x69\x6e\x31\x71\x02\x86\x71\x03\x52\x71"
      "\x04\x2e";
  PyPtr v = load(p);
  ASSERT_TRUE(v->is(PyValue::Kind::Bytes));
  EXPECT_EQ(v->text(), std::string("\x00\xff", 2));
}

TEST(Pickle, ObjectsBuildAndPersistentIds) {
  // GLOBAL m f, MARK BININT1 1 BINUNICODE 'q' TUPLE, REDUCE, EMPTY_DICT BUILD,
  // then BINUNICODE 'pid' BINPERSID, TUPLE2, STOP.
  const char p[] = "\x80\x02" "cm\nf\n" "(K\x01X\x01\x00\x00\x00qtR" "}b"
                   "X\x03\x00\x00\x00pidQ" "\x86.";
  PyPtr v = load(p, {"m.f"});
  ASSERT_TRUE(v->is(PyValue::Kind::Tuple));
  const PyValue& obj = *v->items[0];
  ASSERT_TRUE(obj.is(PyValue::Kind::Object));
  EXPECT_EQ(obj.s, "m.f");
  ASSERT_EQ(obj.items.size(), 2u);
  EXPECT_EQ(obj.items[0]->i, 1);
  EXPECT_EQ(obj.items[1]->s, "q");
  ASSERT_TRUE(obj.state && obj.state->is(PyValue::Kind::Dict));
  const PyValue& pers = *v->items[1];
  ASSERT_TRUE(pers.is(PyValue::Kind::Persistent));
  EXPECT_EQ(pers.items[0]->s, "pid");
  EXPECT_NE(obj.repr().find("m.f(1, 'q')"), std::string::npos) << obj.repr();
}

TEST(Pickle, UnknownGlobalIsNamed) {
  const char p[] = "\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00ls\x85R.";
  std::string msg = error_of(p);
  EXPECT_NE(msg.find("unknown global 'os.system'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("test pickle"), std::string::npos) << msg;
  EXPECT_NO_THROW(load(p, {"os.system"}));  // allowed: becomes an inert object
}

TEST(Pickle, UnknownOpcodeIsNamed) {
  const char p[] = "\x80\x02K\x01\xff.";
  std::string msg = error_of(p);
  EXPECT_NE(msg.find("opcode 0xff"), std::string::npos) << msg;
  EXPECT_NE(msg.find("offset 4"), std::string::npos) << msg;
  const char text_int[] = "\x80\x02I5\n.";  // protocol-0 INT: not in the subset
  EXPECT_NE(error_of(text_int).find("opcode 0x49 'I'"), std::string::npos) << error_of(text_int);
}

TEST(Pickle, MalformedStreams) {
  const char no_stop[] = "\x80\x02K\x01";
  EXPECT_NE(error_of(no_stop).find("without STOP"), std::string::npos);
  const char underflow[] = "\x80\x02.";
  EXPECT_NE(error_of(underflow).find("underflow"), std::string::npos);
  const char short_str[] = "\x80\x02X\xff\x00\x00\x00ab.";
  EXPECT_NE(error_of(short_str).find("truncated"), std::string::npos);
  const char bad_memo[] = "\x80\x02h\x05.";
  EXPECT_NE(error_of(bad_memo).find("memo key 5"), std::string::npos);
  const char no_mark[] = "\x80\x02K\x01t.";
  EXPECT_NE(error_of(no_mark).find("MARK"), std::string::npos);
  const char append_to_int[] = "\x80\x02K\x01K\x02" "a.";
  EXPECT_NE(error_of(append_to_int).find("APPEND to a int"), std::string::npos);
  const char huge_long[] = "\x80\x02\x8a\x09" "123456789.";
  EXPECT_NE(error_of(huge_long).find("64 bits"), std::string::npos);
  // A list appended to itself: repr stays finite.
  const char cyclic[] = "\x80\x02]q\x00h\x00" "a.";
  PyPtr v = load(cyclic);
  EXPECT_EQ(v->items[0].get(), v.get());
  EXPECT_FALSE(v->repr(5).empty());
  v->items.clear();  // break the cycle so the test does not leak
}

}  // namespace
}  // namespace sirs
