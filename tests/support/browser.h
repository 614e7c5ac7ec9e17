// tests/support/browser.h: headless Chromium for the HTML tests (report.html, graph.html): the DOM after the
// page's scripts ran, and screenshots. A page records what it measured into the DOM (an attribute or a
// <pre>), so a test reads measurements from --dump-dom with no driver protocol. Headless windows are at
// least 500 px wide: a phone width is an <iframe> of that width in a wrapper page (file:// frames are
// readable by their parent: --allow-file-access-from-files), which also measures several widths in one run.
//
//   GB_CHROMIUM();                                            // skips (fails under CI) without chromium
//   std::string dom;
//   REQUIRE(test::chromium_dump_dom(html_path, 390, 900, dir, &dom) == 0);
//   REQUIRE(test::chromium_screenshot(html_path, 1280, 900, dir, dir + "/shot.png") == 0);
#pragma once

#include <cstdlib>
#include <string>

#include "tests/support/data.h"

namespace gb::test {

inline bool chromium_available() {
  return std::system("command -v chromium >/dev/null 2>&1") == 0;
}

// One headless run; `what` is "--dump-dom" or "--screenshot=PATH". The profile lives in work_dir/chr.
inline int chromium_run(const std::string& html_path, int width, int height, const std::string& work_dir,
                        const std::string& what, std::string* out) {
  const std::string cmd =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--allow-file-access-from-files "
      "--virtual-time-budget=5000 --user-data-dir=" +
      work_dir + "/chr --window-size=" + std::to_string(width) + "," + std::to_string(height) + " " + what +
      " file://" + html_path + " 2>" + work_dir + "/chromium.log";
  return run_command(cmd, out);
}

inline int chromium_dump_dom(const std::string& html_path, int width, int height, const std::string& work_dir,
                             std::string* dom) {
  return chromium_run(html_path, width, height, work_dir, "--dump-dom", dom);
}

inline int chromium_screenshot(const std::string& html_path, int width, int height,
                               const std::string& work_dir, const std::string& png_path) {
  return chromium_run(html_path, width, height, work_dir, "--screenshot=" + png_path, nullptr);
}

}  // namespace gb::test

#define GB_CHROMIUM()                                                                    \
  if (!::gb::test::chromium_available()) {                                               \
    if (::gb::test::in_ci())                                                             \
      FAIL("chromium is not installed (tools/setup.sh installs it with the test deps)"); \
    MESSAGE("SKIP: chromium not installed");                                             \
    return;                                                                              \
  }
