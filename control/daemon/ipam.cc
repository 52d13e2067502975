#include "control/daemon/ipam.h"

#include <bit>
#include <stdexcept>

namespace podvs {
namespace {

// Below /8 the bitmap would pass 2 MiB, far beyond any node's pod count; above /30 there is no
// address left once network and broadcast are taken.
constexpr uint8_t kShortestPrefix = 8;
constexpr uint8_t kLongestPrefix = 30;
constexpr size_t kBitsPerWord = 64;

void set_bit(std::vector<uint64_t>& bits, size_t index) {
  bits[index / kBitsPerWord] |= uint64_t{1} << (index % kBitsPerWord);
}

void clear_bit(std::vector<uint64_t>& bits, size_t index) {
  bits[index / kBitsPerWord] &= ~(uint64_t{1} << (index % kBitsPerWord));
}

bool test_bit(const std::vector<uint64_t>& bits, size_t index) {
  return (bits[index / kBitsPerWord] >> (index % kBitsPerWord)) & 1;
}

}  // namespace

Ipam::Ipam(Ipv4Prefix cidr, std::vector<Ipv4> reserved) : cidr_(cidr) {
  if (cidr.length < kShortestPrefix || cidr.length > kLongestPrefix)
    throw std::runtime_error("pod CIDR " + cidr.str() + " is not supported: IPAM needs a prefix " +
                             "length between /8 and /30");
  if ((cidr.network & cidr.mask()) != cidr.network)
    throw std::runtime_error("pod CIDR " + cidr.str() + " has host bits set; use " +
                             Ipv4Prefix{cidr.network & cidr.mask(), cidr.length}.str());

  const size_t size = cidr.size();
  const size_t words = (size + kBitsPerWord - 1) / kBitsPerWord;
  taken_.assign(words, 0);
  reserved_.assign(words, 0);
  set_bit(taken_, 0);
  set_bit(taken_, size - 1);
  capacity_ = size - 2;
  for (Ipv4 ip : reserved) {
    if (!usable(ip)) continue;
    const size_t index = ip - cidr.network;
    if (test_bit(reserved_, index)) continue;
    set_bit(reserved_, index);
    set_bit(taken_, index);
    --capacity_;
  }
}

std::optional<Ipv4> Ipam::allocate() {
  if (used_ == capacity_) return std::nullopt;
  size_t index = first_free_from(cursor_ + 1);
  if (index == kNotFound) index = first_free_from(0);
  set_bit(taken_, index);
  ++used_;
  cursor_ = index;
  return cidr_.network + static_cast<Ipv4>(index);
}

bool Ipam::reserve(Ipv4 ip) {
  if (!usable(ip)) return false;
  const size_t index = ip - cidr_.network;
  if (test_bit(taken_, index)) return false;
  set_bit(taken_, index);
  ++used_;
  return true;
}

bool Ipam::release(Ipv4 ip) {
  if (!in_use(ip)) return false;
  const size_t index = ip - cidr_.network;
  clear_bit(taken_, index);
  --used_;
  return true;
}

bool Ipam::in_use(Ipv4 ip) const {
  if (!usable(ip)) return false;
  const size_t index = ip - cidr_.network;
  return test_bit(taken_, index) && !test_bit(reserved_, index);
}

void Ipam::set_cursor(Ipv4 ip) {
  if (!cidr_.contains(ip))
    throw std::runtime_error("IPAM cursor " + ipv4_str(ip) + " is outside the pod CIDR " +
                             cidr_.str());
  cursor_ = ip - cidr_.network;
}

bool Ipam::usable(Ipv4 ip) const {
  return cidr_.contains(ip) && ip != cidr_.network && ip != cidr_.broadcast();
}

size_t Ipam::first_free_from(size_t index) const {
  const size_t size = cidr_.size();
  if (index >= size) return kNotFound;
  for (size_t word = index / kBitsPerWord; word < taken_.size(); ++word) {
    uint64_t free_bits = ~taken_[word];
    if (word == index / kBitsPerWord) free_bits &= ~uint64_t{0} << (index % kBitsPerWord);
    if (free_bits == 0) continue;
    const size_t found = word * kBitsPerWord + static_cast<size_t>(std::countr_zero(free_bits));
    return found < size ? found : kNotFound;
  }
  return kNotFound;
}

}  // namespace podvs
