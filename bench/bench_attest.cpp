// A scale-out attesting at once: N simulated runtimes attest to one CAS, each over a fresh TLS
// connection, as starting pods do. The protocol is the simulation runtime's own code
// (runtime::connect_pinned, then runtime::attest), so what the CAS sees is what
// sconectl-runtime-sim sends, minus measuring a container: every attempt reports the same given
// measurement (the `runtime` section of bench/run.sh times measuring). SIMULATION: there is no
// SGX here and no hardware protection; the figures are those of the protocol and of the CAS.
//
//   bench_attest --address HOST:PORT --cas-key HASH --config-id SESSION/SERVICE --token HEX
//                --measurement HEX --attempts N [--workers K] [--cas-pid PID] [--json FILE]
//
// K worker threads (default: N) each take the next attempt until N were made. Every worker
// connects only after all K exist and a common start is given, so the first K attempts begin
// together; with K < N the rest follow as workers free up, K in flight until the queue is empty.
// A latency is one attempt's, from its connect to the opened configuration (queueing in the
// kernel's and the CAS's backlogs included, waiting for a free worker not). With --cas-pid, the
// CAS process's CPU time (utime + stime) over the burst and its peak RSS (VmHWM) are read from
// /proc. --json writes the figures for bench/run.sh.

#include "sconectl/runtime/runtime.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;
namespace runtime = sconectl::runtime;

double seconds_between(Clock::time_point from, Clock::time_point to)
{
  return std::chrono::duration<double>(to - from).count();
}

// The runtime's channel with a stopwatch: the nonce request and the attestation request are the
// only two exchanges runtime::attest makes, so their times split the attempt from the client.
class TimedChannel final : public runtime::CasChannel {
 public:
  explicit TimedChannel(runtime::CasChannel& inner) : m_inner(inner) {}
  sconectl::Result<runtime::ChannelAnswer> send(const sconectl::http1::Request& request) override
  {
    const auto start = Clock::now();
    auto answer = m_inner.send(request);
    (request.method == "GET" ? nonce_seconds : request_seconds) +=
        seconds_between(start, Clock::now());
    return answer;
  }
  double nonce_seconds = 0;
  double request_seconds = 0;

 private:
  runtime::CasChannel& m_inner;
};

struct Attempt {
  bool ok = false;
  double total = 0;      // connect to opened configuration
  double handshake = 0;  // TCP connect, TLS handshake and the key pin check
  double nonce = 0;      // GET /v1/attestation/nonce
  double request = 0;    // POST /v1/attestation, the CAS's work on it included
  std::string error;
};

struct Options {
  std::string address;
  std::string cas_key;
  std::string config_id;
  std::string token;
  std::string measurement;
  std::size_t attempts = 0;
  std::size_t workers = 0;
  std::optional<long> cas_pid;
  std::string json_file;
};

std::optional<Options> parse(int argc, char** argv)
{
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--address") {
      options.address = value;
    } else if (name == "--cas-key") {
      options.cas_key = value;
    } else if (name == "--config-id") {
      options.config_id = value;
    } else if (name == "--token") {
      options.token = value;
    } else if (name == "--measurement") {
      options.measurement = value;
    } else if (name == "--attempts") {
      options.attempts = std::stoul(value);
    } else if (name == "--workers") {
      options.workers = std::stoul(value);
    } else if (name == "--cas-pid") {
      options.cas_pid = std::stol(value);
    } else if (name == "--json") {
      options.json_file = value;
    } else {
      return std::nullopt;
    }
  }
  if (argc % 2 != 1 || options.address.empty() || options.cas_key.empty()
      || options.config_id.empty() || options.measurement.empty() || options.attempts == 0) {
    return std::nullopt;
  }
  if (options.workers == 0 || options.workers > options.attempts) {
    options.workers = options.attempts;
  }
  return options;
}

// utime + stime of a process, in seconds (/proc/<pid>/stat, fields 14 and 15).
std::optional<double> cpu_seconds_of(long pid)
{
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: count from its closing one.
  const auto close = text.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream fields(text.substr(close + 1));
  std::vector<std::string> words;
  for (std::string word; fields >> word;) {
    words.push_back(word);
  }
  // words[0] is field 3 (state): utime is field 14, stime field 15.
  if (words.size() < 13) {
    return std::nullopt;
  }
  const auto ticks = std::stod(words[11]) + std::stod(words[12]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Peak resident set size in KiB (/proc/<pid>/status, VmHWM).
std::optional<long> peak_rss_kib_of(long pid)
{
  std::ifstream file("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("VmHWM:")) {
      return std::stol(line.substr(6));
    }
  }
  return std::nullopt;
}

double own_cpu_seconds()
{
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto to_seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return to_seconds(usage.ru_utime) + to_seconds(usage.ru_stime);
}

// The value below which `share` of the sorted values lie (nearest rank).
double percentile(const std::vector<double>& sorted, double share)
{
  if (sorted.empty()) {
    return 0;
  }
  const auto rank = static_cast<std::size_t>(share * static_cast<double>(sorted.size()) + 0.999999);
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

Attempt attest_once(const Options& options, const runtime::StartSettings& settings)
{
  Attempt attempt;
  const auto start = Clock::now();
  auto channel = runtime::connect_pinned(options.address, options.cas_key);
  const auto connected = Clock::now();
  attempt.handshake = seconds_between(start, connected);
  if (!channel) {
    attempt.error = channel.error().message;
    attempt.total = attempt.handshake;
    return attempt;
  }
  TimedChannel timed(**channel);
  auto configuration = runtime::attest(timed, settings, options.measurement);
  attempt.total = seconds_between(start, Clock::now());
  attempt.nonce = timed.nonce_seconds;
  attempt.request = timed.request_seconds;
  if (!configuration) {
    attempt.error = configuration.error().message;
    return attempt;
  }
  attempt.ok = true;
  return attempt;
}

}  // namespace

int main(int argc, char** argv)
{
  const auto options = parse(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "usage: %s --address HOST:PORT --cas-key HASH --config-id SESSION/SERVICE "
                 "--token HEX --measurement HEX --attempts N [--workers K] [--cas-pid PID] "
                 "[--json FILE]\n",
                 argv[0]);
    return 2;
  }
  const runtime::StartSettings settings{.config_id = options->config_id,
                                        .cas_address = options->address,
                                        .cas_key = options->cas_key,
                                        .service_access_token = options->token};

  // A connection the CAS closed must count as a failed attempt, not end the load generator: the
  // channel writes with SSL_write on a plain socket, which raises SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  // Thousands of threads that each hold one blocking connection need little stack; the default
  // (8 MiB, from ulimit -s) would reserve 40 GiB of address space for 5000.
  pthread_attr_t defaults;
  ::pthread_attr_init(&defaults);
  ::pthread_attr_setstacksize(&defaults, 256 * 1024);
  ::pthread_setattr_default_np(&defaults);
  ::pthread_attr_destroy(&defaults);

  std::vector<Attempt> attempts(options->attempts);
  std::atomic<std::size_t> next{0};
  std::latch ready(static_cast<std::ptrdiff_t>(options->workers) + 1);
  std::latch go(1);
  std::vector<std::thread> workers;
  workers.reserve(options->workers);
  for (std::size_t w = 0; w < options->workers; ++w) {
    workers.emplace_back([&] {
      ready.count_down();
      go.wait();
      for (auto index = next++; index < attempts.size(); index = next++) {
        attempts[index] = attest_once(*options, settings);
      }
    });
  }
  ready.arrive_and_wait();
  const auto cas_cpu_before = options->cas_pid ? cpu_seconds_of(*options->cas_pid) : std::nullopt;
  const auto own_cpu_before = own_cpu_seconds();
  const auto start = Clock::now();
  go.count_down();
  for (auto& worker : workers) {
    worker.join();
  }
  const auto wall = seconds_between(start, Clock::now());
  const auto own_cpu = own_cpu_seconds() - own_cpu_before;
  const auto cas_cpu_after = options->cas_pid ? cpu_seconds_of(*options->cas_pid) : std::nullopt;
  const auto cas_peak_kib = options->cas_pid ? peak_rss_kib_of(*options->cas_pid) : std::nullopt;

  std::vector<double> latencies;
  double handshake = 0;
  double nonce = 0;
  double request = 0;
  double total = 0;
  std::size_t nonce_refusals = 0;
  std::map<std::string, std::size_t> errors;
  for (const auto& attempt : attempts) {
    if (attempt.ok) {
      latencies.push_back(attempt.total);
      handshake += attempt.handshake;
      nonce += attempt.nonce;
      request += attempt.request;
      total += attempt.total;
      continue;
    }
    // The CAS's refusal of a nonce names it ("the nonce is unknown, expired or already used").
    if (attempt.error.find("nonce") != std::string::npos) {
      ++nonce_refusals;
    }
    ++errors[attempt.error.substr(0, 160)];
  }
  std::sort(latencies.begin(), latencies.end());
  const auto succeeded = latencies.size();
  const auto failed = attempts.size() - succeeded;
  const auto rate = static_cast<double>(succeeded) / wall;
  const auto p50 = percentile(latencies, 0.50);
  const auto p99 = percentile(latencies, 0.99);
  const auto share = [total](double part) { return total > 0 ? 100 * part / total : 0.0; };
  const auto mean_ms = [succeeded](double sum) {
    return succeeded > 0 ? 1000 * sum / static_cast<double>(succeeded) : 0.0;
  };

  std::printf(
      "attest N=%zu (%zu workers): %zu ok in %.2f s = %.0f attestations/s, p50 %.1f ms, p99 %.1f "
      "ms, %zu failed (%zu nonce refused)\n",
      attempts.size(),
      options->workers,
      succeeded,
      wall,
      rate,
      1000 * p50,
      1000 * p99,
      failed,
      nonce_refusals);
  std::printf(
      "  client-side phases (mean of successful attempts): TLS connect+handshake %.2f ms (%.0f "
      "%%), "
      "nonce %.2f ms (%.0f %%), attestation request %.2f ms (%.0f %%), the runtime's own crypto "
      "%.2f ms (%.0f %%)\n",
      mean_ms(handshake),
      share(handshake),
      mean_ms(nonce),
      share(nonce),
      mean_ms(request),
      share(request),
      mean_ms(total - handshake - nonce - request),
      share(total - handshake - nonce - request));
  std::optional<double> cas_cpu_per_attempt;
  if (cas_cpu_before && cas_cpu_after) {
    cas_cpu_per_attempt = (*cas_cpu_after - *cas_cpu_before) / static_cast<double>(attempts.size());
    std::printf(
        "  CAS: %.3f s CPU over the burst = %.3f ms per attempt, peak RSS %.1f MiB; load "
        "generator: %.3f ms CPU per attempt\n",
        *cas_cpu_after - *cas_cpu_before,
        1000 * *cas_cpu_per_attempt,
        cas_peak_kib ? static_cast<double>(*cas_peak_kib) / 1024 : 0.0,
        1000 * own_cpu / static_cast<double>(attempts.size()));
  }
  for (const auto& [message, count] : errors) {
    std::printf("  failure x%zu: %s\n", count, message.c_str());
  }

  if (!options->json_file.empty()) {
    nlohmann::json result{{"attempts", attempts.size()},
                          {"workers", options->workers},
                          {"succeeded", succeeded},
                          {"failed", failed},
                          {"nonce_refusals", nonce_refusals},
                          {"wall_s", wall},
                          {"rate", rate},
                          {"p50_ms", 1000 * p50},
                          {"p99_ms", 1000 * p99},
                          {"handshake_ms", mean_ms(handshake)},
                          {"nonce_ms", mean_ms(nonce)},
                          {"request_ms", mean_ms(request)},
                          {"client_crypto_ms", mean_ms(total - handshake - nonce - request)},
                          {"client_cpu_ms", 1000 * own_cpu / static_cast<double>(attempts.size())}};
    if (cas_cpu_per_attempt) {
      result["cas_cpu_ms"] = 1000 * *cas_cpu_per_attempt;
    }
    if (cas_peak_kib) {
      result["cas_peak_rss_kib"] = *cas_peak_kib;
    }
    std::ofstream(options->json_file) << result.dump() << "\n";
  }
  return failed == 0 ? 0 : 1;
}
