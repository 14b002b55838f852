// Tests of the memory a connection's requests are read into: the block serves request after request, what
// does not fit comes from the heap, and Beast's fields and a string body work on it.
#include "net/request_arena.hpp"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace maestro::net {
namespace {

TEST(RequestArena, EveryRequestReusesTheSameBlock) {
  RequestArena arena;
  void* first = arena.allocate(100, 8);
  void* second = arena.allocate(1, 1);
  void* aligned = arena.allocate(16, 16);
  EXPECT_EQ(static_cast<char*>(second), static_cast<char*>(first) + 100);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % 16, 0u);
  arena.deallocate(first);  // a no-op: the block is given back whole
  arena.reset();
  EXPECT_EQ(arena.allocate(100, 8), first);
}

TEST(RequestArena, WhatDoesNotFitComesFromTheHeap) {
  RequestArena arena;
  char* in_block = static_cast<char*>(arena.allocate(RequestArena::kBlockBytes - 8, 8));
  char* large = static_cast<char*>(arena.allocate(64, 8));
  EXPECT_TRUE(large < in_block || large >= in_block + RequestArena::kBlockBytes);
  large[63] = 'x';          // usable (AddressSanitizer would see otherwise)
  arena.deallocate(large);  // freed at once (LeakSanitizer would see otherwise)
  EXPECT_EQ(arena.allocate(8, 8), in_block + RequestArena::kBlockBytes - 8);
}

TEST(RequestArena, HoldsBeastFieldsAndAStringBody) {
  RequestArena arena;
  const ArenaAllocator<char> allocator(arena);
  for (int request = 0; request < 3; ++request) {
    {
      RequestFields fields(allocator);
      fields.insert("Content-Type", "application/json");
      fields.insert("X-Long", std::string(2 * RequestArena::kBlockBytes, 'v'));  // from the heap
      std::basic_string<char, std::char_traits<char>, ArenaAllocator<char>> body(allocator);
      body.assign(300, 'b');
      EXPECT_EQ(fields["content-type"], "application/json");
      EXPECT_EQ(fields["x-long"].size(), 2 * RequestArena::kBlockBytes);
      EXPECT_EQ(body, std::string(300, 'b').c_str());
    }
    arena.reset();
  }
}

}  // namespace
}  // namespace maestro::net
