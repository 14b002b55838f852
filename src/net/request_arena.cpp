#include "net/request_arena.hpp"

#include <functional>
#include <new>
#include <tuple>
#include <utility>

namespace maestro::net {

void* RequestArena::allocate(std::size_t bytes, std::size_t alignment) {
  if (!block_) block_ = std::make_unique<std::byte[]>(kBlockBytes);
  const std::size_t start = (used_ + alignment - 1) / alignment * alignment;
  if (start <= kBlockBytes && bytes <= kBlockBytes - start) {
    used_ = start + bytes;
    return block_.get() + start;
  }
  return ::operator new(bytes);
}

void RequestArena::deallocate(void* memory) noexcept {
  const auto* at = static_cast<const std::byte*>(memory);
  const std::less_equal<> not_after;
  const bool in_block =
      block_ && not_after(block_.get(), at) && std::less<>()(at, block_.get() + kBlockBytes);
  if (!in_block) ::operator delete(memory);
}

void emplace_request_parser(std::optional<RequestParser>& parser, RequestArena& arena) {
  parser.reset();
  arena.reset();
  parser.emplace(std::piecewise_construct, std::make_tuple(ArenaAllocator<char>(arena)),
                 std::make_tuple(ArenaAllocator<char>(arena)));
}

}  // namespace maestro::net
