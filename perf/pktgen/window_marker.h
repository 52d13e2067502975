// --mark-window PATH: tells whoever watches PATH when the measured window starts and ends, so that
// a harness can sample the switch and the machine (CPU busy shares, scheduler waits, steal) over
// the steady window only, not over start-up, warm-up and drain. Each mark is one line appended to
// PATH, "start <ns>" or "end <ns>" with CLOCK_MONOTONIC nanoseconds, written once by the loop that
// sends (one write(2) each: it costs the loop nothing it would notice).
#pragma once

#include <string>

namespace podvs::pktgen {

class WindowMarker {
 public:
  WindowMarker() = default;
  WindowMarker(const WindowMarker&) = delete;
  WindowMarker& operator=(const WindowMarker&) = delete;
  ~WindowMarker();

  // Opens PATH for appending (creating it); an empty path marks nothing. Returns an error sentence
  // or "".
  std::string open(const std::string& path);

  // Each writes its line once; later calls do nothing.
  void start();
  void end();

 private:
  void mark(const char* what, bool& done);

  int fd_ = -1;
  bool started_ = false;
  bool ended_ = false;
};

}  // namespace podvs::pktgen
