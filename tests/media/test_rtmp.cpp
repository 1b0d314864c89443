// RTMP restream to a real nginx-rtmp on loopback; the server dropping must
// not disturb the call, and the output reconnects when it comes back.

#include "media_test_util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

using namespace callagent;
using namespace callagent::media;
using namespace callagent::media::test;
using namespace std::chrono_literals;

namespace {
class Nginx {
 public:
  Nginx(const TempDir& dir, int port) : dir_(dir), port_(port) {
    std::ofstream conf(dir.file("nginx.conf"));
    conf << "load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;\n"
         << "daemon off; master_process off; error_log " << dir.file("error.log") << ";\n"
         << "pid " << dir.file("nginx.pid") << ";\n"
         << "events {}\n"
         << "rtmp { server { listen 127.0.0.1:" << port << "; application live { live on;"
         << " record all; record_path " << dir.path() << "; record_unique on; } } }\n";
  }
  ~Nginx() { stop(); }
  void start() {
    pid_ = fork();
    if (pid_ == 0) {
      execlp("nginx", "nginx", "-p", dir_.path().c_str(), "-c", dir_.file("nginx.conf").c_str(),
             (char*)nullptr);
      _exit(127);
    }
  }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  const TempDir& dir_;
  int port_;
  pid_t pid_ = -1;
};

struct PeerPair {
  LoopbackSide sa, sb;
};
}  // namespace

TEST_CASE("RTMP restream survives the server dropping and reconnects", "[media][rtmp]") {
  if (access("/usr/lib/nginx/modules/ngx_rtmp_module.so", R_OK) != 0) {
    CALLAGENT_SKIP("nginx's RTMP module is not installed (apt-get install libnginx-mod-rtmp)");
  }
  TestContext tc;
  TempDir dir;
  const int port = 19350 + (getpid() % 500);
  Nginx nginx(dir, port);
  nginx.start();
  g_usleep(300000);

  EngineListener la, lb;
  MediaOptions oa = loopback_options();
  oa.output.rtmp_url = "rtmp://127.0.0.1:" + std::to_string(port) + "/live/test";
  auto a = MediaEngine::create(oa, &la);
  auto b = MediaEngine::create(loopback_options(), &lb);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  PeerPair p;
  p.sa.ctx = p.sb.ctx = tc.get();
  PeerConnection* pa = (*a)->add_peer(&p.sa);
  PeerConnection* pb = (*b)->add_peer(&p.sb);
  p.sa.other = pb;
  p.sb.other = pa;
  pa->create_offer();
  REQUIRE(tc.run_until([&] { return p.sa.got_video && p.sa.got_audio; }, 10s));
  tc.run_for(3000ms);

  nginx.stop();  // the server drops
  auto before = pa->counters();
  REQUIRE(tc.run_until([&] { return pa->counters().rtmp_restarts >= 1; }, 8s));
  tc.run_for(1500ms);
  auto after = pa->counters();
  CHECK(after.video_frames > before.video_frames + 45);  // the call went on
  CHECK(p.sa.errors.empty());
  CHECK(la.errors.empty());

  nginx.start();  // and comes back: the output reconnects
  tc.run_for(6000ms);
  bool stopped = false;
  (*a)->stop([&] { stopped = true; });
  REQUIRE(tc.run_until([&] { return stopped; }, 8s));
  nginx.stop();

  // nginx recorded each publish to its own .flv: the last one is H.264 + AAC.
  std::string files = run_command("ls -t " + dir.path() + "/*.flv 2>/dev/null");
  INFO(files);
  REQUIRE(!files.empty());
  std::string first_file = files.substr(0, files.find('\n'));
  ProbeResult r = probe(first_file);
  CHECK(r.video_codec == "h264");
  CHECK(r.audio_codec == "aac");
  CHECK(r.width == 854);
}
