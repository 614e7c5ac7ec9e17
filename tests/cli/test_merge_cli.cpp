// glassbox bias --shard + merge end to end on stories260K and the real datasets: for N = 1, 2, 3 and 7 the
// merged bias.json equals the single-process one byte for byte, for every suite; Open MPI's mpirun as the
// launcher of `--shard auto`; and the merge's refusals (missing, duplicated, foreign parts).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "tests/support/data.h"

using namespace gb;

namespace {

// Under ASan + UBSan every process runs ~5x slower: fewer items per suite there (the same code paths; 7
// shards still leave some suites' shards empty).
#ifdef GB_SANITIZED
constexpr const char* kLimit = "4";
constexpr const char* kAuditLimit = "3";
#else
constexpr const char* kLimit = "9";
constexpr const char* kAuditLimit = "7";
#endif

// The data root the runs read. Under ASan + UBSan every process parses every dataset, and BBQ's six files
// (10 MB of JSON lines) cost ~4 CPU s a process there: the sanitized runs read a copy of the root made of
// links, whose BBQ folder holds its two smallest categories (1.8 MB). Every suite still runs.
std::string data_root(const std::string& data) {
#ifdef GB_SANITIZED
  namespace fs = std::filesystem;
  static std::string root;
  if (!root.empty()) return root;
  root = test::temp_dir("merge_data_root");
  for (const auto& e : fs::directory_iterator(data))
    if (e.path().filename() != "bbq")
      fs::create_directory_symlink(e.path(), fs::path(root) / e.path().filename());
  fs::create_directory(fs::path(root) / "bbq");
  for (const char* f : {"Sexual_orientation.jsonl", "Religion.jsonl"})
    fs::create_symlink(fs::path(data) / "bbq" / f, fs::path(root) / "bbq" / f);
  return root;
#else
  return data;
#endif
}

// Few items per suite (every suite, templates included); 7 shards leave some suites' shards empty.
std::string bias_args(const std::string& model, const std::string& data) {
  return model + " --suite all --data-root " + data_root(data) + " --limit " + kLimit +
         " --resamples 50 --threads 1";
}

// The single-process run's bias.json, computed once.
const std::string& single(const std::string& model, const std::string& data) {
  static std::string text;
  if (text.empty()) {
    const std::string dir = test::temp_dir("merge_single");
    std::string out;
    REQUIRE_MESSAGE(test::run_glassbox("bias " + bias_args(model, data) + " -o " + dir, &out, true) == 0,
                    out);
    text = test::read_text(dir + "/bias.json");
    REQUIRE(text.find("\"suite\": \"holisticbias\"") != std::string::npos);
    REQUIRE(text.find("\"error\"") == std::string::npos);  // every suite's dataset was found
    // every suite reports its cost: positions scored and positions computed (prefixes shared once)
    const std::regex cost("\"cost\": \\{\\s*\"tokens\": (\\d+),\\s*\"tokens_computed\": (\\d+)\\s*\\}");
    size_t suites = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), cost); it != std::sregex_iterator();
         ++it, ++suites) {
      const unsigned long tokens = std::stoul((*it)[1]), computed = std::stoul((*it)[2]);
      CHECK(computed > 0);
      CHECK(computed <= tokens);
    }
    CHECK(suites == 6u);
  }
  return text;
}

// The document without the suites' "cost" objects: what the run computed depends on how it was split (a
// shard cannot reuse a prefix another shard computed), like timing.
std::string without_cost(const std::string& doc) {
  return std::regex_replace(doc, std::regex("\"cost\": \\{[^}]*\\},\\s*"), "");
}

std::string parts_of(const std::string& dir, size_t n) {
  std::string list;
  for (size_t i = 0; i < n; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "/bias.part-%04zu-of-%04zu.json", i, n);
    list += " " + dir + name;
  }
  return list;
}

}  // namespace

TEST_CASE("merge of N shards equals the single-process bias.json byte for byte (N = 1, 2, 3, 7)") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(data, "bias");
  const std::string& want = single(model, data);
// Under ASan + UBSan every process (each parses every dataset) runs ~5x slower: one split of each kind there.
#ifdef GB_SANITIZED
  const std::vector<size_t> counts = {1u, 7u};  // one shard; more shards than some suites have items
#else
  const std::vector<size_t> counts = {1u, 2u, 3u, 7u};
#endif
  for (size_t n : counts) {
    INFO("N = " << n);
    const std::string dir = test::temp_dir("merge_n" + std::to_string(n));
    std::string out;
    for (size_t i = 0; i < n; ++i)
      REQUIRE_MESSAGE(test::run_glassbox("bias " + bias_args(model, data) + " --shard " + std::to_string(i) +
                                             "/" + std::to_string(n) + " -o " + dir + "/parts",
                                         &out, true) == 0,
                      out);
    REQUIRE_MESSAGE(test::run_glassbox("merge" + parts_of(dir + "/parts", n) + " -o " + dir + "/merged.json",
                                       &out, true) == 0,
                    out);
    const std::string got = test::read_text(dir + "/merged.json");
    if (n == 3) {  // the folder the shards wrote stands for its part files
      REQUIRE_MESSAGE(
          test::run_glassbox("merge " + dir + "/parts -o " + dir + "/from_folder.json", &out, true) == 0,
          out);
      CHECK(test::read_text(dir + "/from_folder.json") == got);
    }
    if (n == 1) CHECK(got == want);  // one shard computes exactly what one process does
    const std::string stripped = without_cost(got);
    CHECK(stripped.size() < got.size());    // every suite reports its cost ...
    CHECK(stripped == without_cost(want));  // ... and the rest is byte for byte the same
    if (n == 7) {                           // a shard alone is partial: it holds only its own records
      const std::string p0 = test::read_text(dir + "/parts/bias.part-0000-of-0007.json");
      CHECK(p0.find("\"format\": \"glassbox-bias-part/1\"") != std::string::npos);
      CHECK(p0.size() < want.size());
    }
  }
}

TEST_CASE("merge refuses missing, duplicated and foreign parts, naming them") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(data, "bias");
  const std::string dir = test::temp_dir("merge_refuse");
  const std::string args =
      model + " --suite crows-pairs,templates --data-root " + data + " --limit 6 --resamples 20";
  std::string out;
  for (int i = 0; i < 3; ++i)
    REQUIRE(test::run_glassbox("bias " + args + " --shard " + std::to_string(i) + "/3 -o " + dir + "/a", &out,
                               true) == 0);
  REQUIRE(test::run_glassbox("bias " + args + " --seed 2 --shard 1/3 -o " + dir + "/b", &out, true) == 0);
  const std::string p = dir + "/a/bias.part-000";

  out.clear();
  CHECK(test::run_glassbox("merge " + p + "0-of-0003.json " + p + "2-of-0003.json -o " + dir + "/m.json",
                           &out, true) != 0);
  CHECK(out.find("missing shard(s) 1 of 3") != std::string::npos);
  CHECK(out.find("Rerun them with --shard I/3") != std::string::npos);
  CHECK(out.find("malformed") == std::string::npos);  // the message's own advice, no generic hint

  out.clear();
  CHECK(test::run_glassbox("merge " + p + "0-of-0003.json " + p + "1-of-0003.json " + p + "1-of-0003.json " +
                               p + "2-of-0003.json -o " + dir + "/m.json",
                           &out, true) != 0);
  CHECK(out.find("shard given twice: 1") != std::string::npos);
  CHECK(out.find("malformed") == std::string::npos);

  out.clear();  // a folder with no part files
  CHECK(test::run_glassbox("merge " + dir + " -o " + dir + "/m.json", &out, true) == 3);
  CHECK(out.find("no bias.part-*.json in this folder") != std::string::npos);

  out.clear();  // shard 1 from a run with another seed
  CHECK(test::run_glassbox("merge " + p + "0-of-0003.json " + dir + "/b/bias.part-0001-of-0003.json " + p +
                               "2-of-0003.json -o " + dir + "/m.json",
                           &out, true) != 0);
  CHECK(out.find("option") != std::string::npos);
  CHECK(out.find("seed: 2 vs 1") != std::string::npos);
  CHECK(out.find("same release") == std::string::npos);  // not the split-model hint

  test::write_file(dir + "/bad.json", std::string("{\"format\": \"something else\"}"));
  out.clear();
  CHECK(test::run_glassbox("merge " + dir + "/bad.json -o " + dir + "/m.json", &out, true) != 0);
  CHECK(out.find("not a glassbox partial result") != std::string::npos);
  CHECK(out.find("Rerun the shard") != std::string::npos);
  CHECK(out.find("kind of JSON") == std::string::npos);  // its own advice only

  out.clear();  // --shard without a launcher or a valid I/N: usage errors (exit 2), not bad input
  CHECK(test::run_glassbox("bias " + args + " --shard 3/3 -o " + dir + "/c", &out, true) == 2);
  CHECK(out.find("not a shard") != std::string::npos);
  CHECK(out.find("malformed") == std::string::npos);
  out.clear();
  CHECK(test::run_command("env -u SLURM_ARRAY_TASK_ID -u SLURM_PROCID -u OMPI_COMM_WORLD_RANK -u PMI_RANK -u "
                          "JOB_COMPLETION_INDEX " +
                              test::glassbox_binary() + " bias " + args + " --shard auto -o " + dir +
                              "/c 2>&1",
                          &out) == 2);
  CHECK(out.find("no launcher found") != std::string::npos);
  CHECK(std::ifstream(dir + "/c/bias.part-0003-of-0003.json").good() == false);
}

namespace {
// The names of the files in a folder, sorted.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

TEST_CASE(
    "a suite that cannot run: every shard and the merge exit 1 naming it, as one process does; the "
    "merge prints and writes what bias does") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(data, "bias");
  namespace fs = std::filesystem;
  const std::string dir = test::temp_dir("merge_not_run"), root = dir + "/root";
  fs::create_directory(root);  // crows-pairs and bbq (two charts: bias scores, accuracy); no winobias
  for (const char* suite : {"crows-pairs", "bbq"})
    fs::create_directory_symlink(fs::path(data_root(data)) / suite, fs::path(root) / suite);
  const std::string args = model + " --suite crows-pairs,bbq,winobias --data-root " + root +
                           " --limit 4 --resamples 20 --threads 1";
  std::string out;
  CHECK(test::run_glassbox("bias " + args + " -o " + dir + "/single", &out, true) == 1);
  CHECK(out.find("suite winobias did not run") != std::string::npos);
  for (int i = 0; i < 2; ++i) {
    out.clear();
    CHECK(test::run_glassbox("bias " + args + " --shard " + std::to_string(i) + "/2 -o " + dir + "/parts",
                             &out, true) == 1);
    CHECK(out.find("suite winobias did not run") != std::string::npos);
  }
  out.clear();
  CHECK(test::run_glassbox("merge " + dir + "/parts -o " + dir + "/merged", &out, true) == 1);
  CHECK(out.find("suite winobias did not run") != std::string::npos);
  CHECK(out.find("QUICK PASS: crows-pairs scored 4 of") != std::string::npos);  // a quick pass says so
  CHECK(names_in(dir + "/merged") == names_in(dir + "/single"));  // bias.json and the same charts
  CHECK(std::ifstream(dir + "/merged/bias-bbq-accuracy.svg").good());
  CHECK(without_cost(test::read_text(dir + "/merged/bias.json")) ==
        without_cost(test::read_text(dir + "/single/bias.json")));
  std::string table, merged_table;
  CHECK(test::run_glassbox("bias " + args + " --format md", &table) == 1);
  CHECK(test::run_glassbox("merge " + dir + "/parts --format md", &merged_table) == 1);
  CHECK(table.find("| crows-pairs |") != std::string::npos);
  CHECK(merged_table == table);
  out.clear();  // audit's shard of the suites, as the whole audit
  CHECK(test::run_glassbox("audit " + model + " --suite crows-pairs,winobias --data-root " + root +
                               " --limit 4 --threads 1 --shard 0/2 -o " + dir + "/audit_parts",
                           &out, true) == 1);
  CHECK(out.find("bias suite winobias") != std::string::npos);
}

// Not under the sanitizers: it tests the launcher (Open MPI's environment reaches --shard auto), not memory
// safety; the launchers' variables are parsed under the sanitizers in probes.test_shard, and shards are
// merged there by the case above.
TEST_CASE("mpirun -np 3 launches --shard auto (Open MPI), and the merge equals the single-process run") {
#ifdef GB_SANITIZED
  MESSAGE("SKIP: the mpirun launcher test runs in the normal build only");
  return;
#endif
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(data, "bias");
  if (test::run_command("command -v mpirun >/dev/null 2>&1", nullptr) != 0) {
    if (test::in_ci())
      FAIL("mpirun (Debian openmpi-bin) is not installed: run GB_WITH_TEST_DEPS=1 tools/setup.sh");
    MESSAGE("SKIP: mpirun not installed (openmpi-bin)");
    return;
  }
  const std::string& want = single(model, data);
  const std::string dir = test::temp_dir("merge_mpirun");
  std::string out;
  // examples/scale/mpi-bias.sh: mpirun -np 3 ... --shard auto, then merge (glassbox from the build on PATH);
  // as root Open MPI refuses to start without both variables
  const std::string cli = test::glassbox_binary().substr(0, test::glassbox_binary().rfind('/'));
  const int rc =
      test::run_command("PATH=" + cli + ":$PATH OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " +
                            std::string(GB_SOURCE_DIR) + "/examples/scale/mpi-bias.sh " + model + " " + data +
                            " " + dir + " 3 --limit " + kLimit + " --resamples 50 --threads 1 2>&1",
                        &out);
  REQUIRE_MESSAGE(rc == 0, out);
  CHECK(out.find("(Open MPI (OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE))") != std::string::npos);
  for (const char* rank : {"shard 0 of 3", "shard 1 of 3", "shard 2 of 3"})
    CHECK(out.find(rank) != std::string::npos);
  CHECK(without_cost(test::read_text(dir + "/merged/bias.json")) == without_cost(want));
}

// A real Slurm cluster (tests/support/slurm_local.sh: munged + slurmctld + slurmd in a temp folder, stopped
// at the end) runs examples/scale/slurm-bias.sh: `sbatch --array=0-2` of `--shard auto`, then the merge job
// that depends on it. Not under the sanitizers: it tests the launcher, not memory safety.
TEST_CASE(
    "sbatch --array=0-2 + a dependent merge job (a local Slurm cluster) equals the single-process run") {
#ifdef GB_SANITIZED
  MESSAGE("SKIP: the Slurm launcher test runs in the normal build only");
  return;
#endif
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(data, "bias");
  if (test::run_command("command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1",
                        nullptr)) {
    if (test::in_ci()) FAIL("slurm-wlm or munge is not installed: run GB_WITH_TEST_DEPS=1 tools/setup.sh");
    MESSAGE("SKIP: slurm-wlm / munge not installed");
    return;
  }
  const std::string& want = single(model, data);
  const std::string dir = test::temp_dir("merge_slurm");
  const std::string cli = test::glassbox_binary().substr(0, test::glassbox_binary().rfind('/'));
  std::string out;
  const int rc = test::run_command("PATH=" + cli + ":$PATH GB_CPUS_PER_TASK=1 " + std::string(GB_SOURCE_DIR) +
                                       "/tests/support/slurm_local.sh " + std::string(GB_SOURCE_DIR) +
                                       "/examples/scale/slurm-bias.sh " + model + " " + data + " " + dir +
                                       " 3 --limit " + kLimit + " --resamples 50 2>&1",
                                   &out);
  if (rc == 77) {  // the daemons cannot start here (the message says why)
    if (test::in_ci()) FAIL("slurm-wlm is installed but the local cluster did not start: " << out);
    MESSAGE("SKIP: " << out);
    return;
  }
  REQUIRE_MESSAGE(rc == 0, out);
  CHECK(out.find("submitted array job") != std::string::npos);
  CHECK(out.find("4 job(s) finished") != std::string::npos);  // 3 array tasks + the merge
  for (int i = 0; i < 3; ++i) {
    const std::string log = test::read_text(dir + "/logs/shard-" + std::to_string(i) + ".out");
    INFO(log);
    CHECK(log.find("Slurm array ((SLURM_ARRAY_TASK_ID") != std::string::npos);
    CHECK(log.find("shard " + std::to_string(i) + " of 3") != std::string::npos);
  }
  CHECK(without_cost(test::read_text(dir + "/merged/bias.json")) == without_cost(want));
}

TEST_CASE("audit --shard I/3 then --bias-parts: the report equals the single-process audit's byte for byte") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(data, "bias");
  const std::string dir = test::temp_dir("merge_audit");
  const std::string args =
      model + " --data-root " + data_root(data) + " --limit " + kAuditLimit + " --resamples 50";
  std::string out;
  REQUIRE_MESSAGE(test::run_glassbox("audit " + args + " -o " + dir + "/single", &out, true) == 0, out);
  for (int i = 0; i < 3; ++i)
    REQUIRE_MESSAGE(
        test::run_glassbox("audit " + args + " --shard " + std::to_string(i) + "/3 -o " + dir + "/parts",
                           &out, true) == 0,
        out);
  REQUIRE_MESSAGE(test::run_glassbox("audit " + args + " --bias-parts" + parts_of(dir + "/parts", 3) +
                                         " -o " + dir + "/merged",
                                     &out, true) == 0,
                  out);
  for (const char* f : {"report.json", "report.html", "MODEL_CARD.md"}) {
    INFO(f);
    const std::string want = test::read_text(dir + "/single/" + f);
    CHECK(!want.empty());
    CHECK(test::read_text(dir + "/merged/" + f) == want);
  }
  CHECK(test::read_text(dir + "/single/report.json").find("\"holisticbias\"") != std::string::npos);
  out.clear();  // parts of another run (other options) are refused
  CHECK(test::run_glassbox(
            "audit " + args + " --seed 5 --bias-parts" + parts_of(dir + "/parts", 3) + " -o " + dir + "/x",
            &out, true) != 0);
  CHECK(out.find("seed: 1 vs 5") != std::string::npos);
}

TEST_CASE(
    "audit --plan: every suite's items and tokens before any scoring, and the time here and on N ranks") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(data, "bias");
  const std::string dir = test::temp_dir("merge_plan");
  std::string out;
  REQUIRE_MESSAGE(
      test::run_glassbox("audit " + model + " --data-root " + data + " --limit 9 --plan --shards 4 -o " + dir,
                         &out) == 0,
      out);
  CHECK(out.find("estimated time") != std::string::npos);  // every step, then the suites on N ranks
  CHECK(out.find("per CPU s") != std::string::npos);       // the calibrated scoring rates
  CHECK(out.find("4 ranks") != std::string::npos);
  const std::regex row(
      "\\n(templates|crows-pairs|stereoset|winobias|bbq|holisticbias) +(\\d+) +(\\d+) +[0-9.]+ s +[0-9.]+ s");
  size_t rows = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), row); it != std::sregex_iterator();
       ++it, ++rows) {
    CHECK(std::stoul((*it)[2]) == 9u);  // --limit 9 items
    CHECK(std::stoul((*it)[3]) > 9u);   // several tokens each
  }
  CHECK(rows == 6u);
  CHECK(!std::ifstream(dir + "/report.json").good());  // nothing was audited
}
