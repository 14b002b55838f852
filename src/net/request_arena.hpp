// Memory for one request's header fields and body, taken from one block the connection keeps, so that the
// requests of a keep-alive connection allocate nothing once it has its block. What does not fit (a large
// header or body) comes from the heap as usual. The block is given back whole, by reset(), before the next
// request is read.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace maestro::net {

class RequestArena {
 public:
  static constexpr std::size_t kBlockBytes = 4096;  // a request's fields and a small body: /predict's fit

  RequestArena() = default;
  RequestArena(const RequestArena&) = delete;
  RequestArena& operator=(const RequestArena&) = delete;

  // `alignment` at most alignof(std::max_align_t).
  void* allocate(std::size_t bytes, std::size_t alignment);
  // Memory from the heap is freed at once; memory from the block only by reset().
  void deallocate(void* memory) noexcept;
  // Nothing allocated from the block may be in use any more.
  void reset() noexcept { used_ = 0; }

 private:
  std::unique_ptr<std::byte[]> block_;  // allocated on first use
  std::size_t used_ = 0;
};

template <class T>
class ArenaAllocator {
  static_assert(alignof(T) <= alignof(std::max_align_t), "the heap's alignment is all the arena gives");

 public:
  using value_type = T;

  explicit ArenaAllocator(RequestArena& arena) noexcept : arena_(&arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena()) {}

  T* allocate(std::size_t n) { return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* memory, std::size_t) noexcept { arena_->deallocate(memory); }

  RequestArena* arena() const noexcept { return arena_; }
  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena_ == other.arena();
  }

 private:
  RequestArena* arena_;
};

// A request as net::HttpServer reads it: its header fields (what HttpRequest::fields points to), its body,
// and the parser that reads both into an arena.
using RequestFields = boost::beast::http::basic_fields<ArenaAllocator<char>>;
using RequestBody = boost::beast::http::basic_string_body<char, std::char_traits<char>, ArenaAllocator<char>>;
using RequestParser = boost::beast::http::request_parser<RequestBody, ArenaAllocator<char>>;

// A fresh parser in `parser`, reading into `arena`, which is reset first: the previous parser, and everything
// it read, is gone.
void emplace_request_parser(std::optional<RequestParser>& parser, RequestArena& arena);

}  // namespace maestro::net
