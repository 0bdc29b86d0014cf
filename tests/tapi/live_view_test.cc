// tapi/live_view.h: the snapshot agrees with the PCE (occupancy grid == Pce::Occupancy() bit for
// bit, services with their band, format and route), ETag/version change only with the state,
// every /ui answer is JSON or an embedded file and bad input never crashes; and the page, loaded
// in headless Chromium from a PCE served over TAPI, shows the provisioned services and their
// slots, follows a deletion, and leaves a screenshot in the build directory.
#include "tapi/live_view.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/tapi/tapi_test_util.h"
#include "tests/tracking/chromium.h"

namespace eonops::tapi {
namespace {

using testing::Server;
using Json = nlohmann::json;

// NSFNET with C, L and S cut to 40 slots each: a dozen services between one pair fill C and
// spill into L, so the view has more than one band to show.
pce::PceConfig MultiBandConfig() {
  pce::PceConfig c = pce::testing::SmallConfig();
  c.network.bands = {"C", "L", "S"};
  return c;
}

pce::ServiceSpec Spec(int src, int dst, double gbps) {
  pce::ServiceSpec s;
  s.request.src = src;
  s.request.dst = dst;
  s.request.bit_rate_gbps = gbps;
  return s;
}

// Every (fibre, band, slot) of the snapshot's grid against the PCE's own spectrum bits.
void ExpectGridMatchesPce(pce::Pce& p, const Json& snap) {
  const auto grid = ExpandOccupancy(snap);
  const pce::OccupancySnapshot occ = p.Occupancy();
  ASSERT_EQ(static_cast<int>(grid.size()), occ.num_fibres);
  for (int f = 0; f < occ.num_fibres; ++f) {
    ASSERT_EQ(grid[f].size(), occ.band_slots.size());
    for (size_t b = 0; b < occ.band_slots.size(); ++b) {
      ASSERT_EQ(static_cast<int>(grid[f][b].size()), occ.band_slots[b]);
      for (int s = 0; s < occ.band_slots[b]; ++s) {
        ASSERT_EQ(grid[f][b][s] >= 0, occ.Occupied(f, static_cast<int>(b), s)) << "fibre " << f << " band " << b << " slot " << s;
      }
    }
  }
}

TEST(LiveViewSnapshot, GridEqualsPceSpectrumAndServicesCarryTheirDecision) {
  pce::Pce p(MultiBandConfig());
  LiveView view(p);
  std::vector<std::string> uuids;
  const int n = p.model().topology().NumNodes();
  for (int i = 0; i < 60; ++i) {
    auto r = p.CreateService(Spec(i % 3, (5 + i * 7) % n == i % 3 ? 13 : (5 + i * 7) % n, 50 + 25 * (i % 4)));
    if (r.ok()) uuids.push_back(r.value->uuid);
  }
  ASSERT_GT(uuids.size(), 20u);
  for (size_t i = 0; i < uuids.size(); i += 3) ASSERT_TRUE(p.DeleteService(uuids[i]));

  const Json snap = view.Snapshot();
  ExpectGridMatchesPce(p, snap);
  ASSERT_EQ(snap["bands"].size(), 3u);
  EXPECT_EQ(snap["bands"][1]["name"], "L");
  const auto services = p.ListServices();
  ASSERT_EQ(snap["services"].size(), services.size());
  std::set<std::string> bands_used;
  for (size_t i = 0; i < services.size(); ++i) {
    const Json& s = snap["services"][i];
    EXPECT_EQ(s["uuid"], services[i].uuid);
    EXPECT_EQ(s["band_name"], services[i].decision.band_name);
    EXPECT_EQ(s["modulation"], services[i].decision.modulation_name);
    EXPECT_EQ(s["fibres"].get<std::vector<int>>(), services[i].decision.fibres);
    EXPECT_EQ(s["slot"], services[i].decision.slot);
    EXPECT_TRUE(s["margin_db"].is_number());
    EXPECT_TRUE(s.contains("policy") && s.contains("fell_back"));
    bands_used.insert(s["band_name"]);
  }
  EXPECT_GE(bands_used.size(), 2u) << "the test means to show more than one band";
  // Each run names the service that owns it.
  for (size_t f = 0; f < snap["occupancy"].size(); ++f) {
    for (size_t b = 0; b < 3; ++b) {
      for (const auto& run : snap["occupancy"][f][b]) {
        const Json& s = snap["services"][run[2].get<size_t>()];
        EXPECT_EQ(s["band"], static_cast<int>(b));
        EXPECT_EQ(run[0], s["slot"]);
        const auto fibres = s["fibres"].get<std::vector<int>>();
        EXPECT_NE(std::find(fibres.begin(), fibres.end(), static_cast<int>(f)), fibres.end());
      }
    }
  }
  // Topology with coordinates, figures that add up.
  ASSERT_EQ(snap["topology"]["nodes"].size(), static_cast<size_t>(n));
  EXPECT_TRUE(snap["topology"]["nodes"][0]["lat"].is_number());
  EXPECT_EQ(snap["figures"]["services"], services.size());
  EXPECT_GT(snap["figures"]["utilisation"]["C"].get<double>(), 0.0);
  EXPECT_NEAR(snap["figures"]["power_w"].get<double>(), p.PowerW(), 1e-2);
  EXPECT_EQ(snap["figures"]["decisions"].get<int64_t>(), 60);
  EXPECT_FALSE(snap["decisions"].empty());
  EXPECT_LE(snap["decisions"].size(), static_cast<size_t>(LiveView::kMaxDecisions));
  EXPECT_EQ(snap["decisions"][0]["uuid"], services.back().uuid);  // newest first
}

TEST(LiveViewSnapshot, VersionAndEtagChangeOnlyWithTheState) {
  pce::Pce p(pce::testing::SmallConfig());
  LiveView view(p);
  auto first = view.Handle("GET", "/ui/api/snapshot");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  const std::string etag = first->headers.at("ETag");
  const int64_t v0 = view.version();
  EXPECT_EQ(view.Handle("GET", "/ui/api/snapshot", etag)->status, 304);
  EXPECT_EQ(view.version(), v0);

  auto created = p.CreateService(Spec(0, 13, 100));
  ASSERT_TRUE(created.ok());
  auto second = view.Handle("GET", "/ui/api/snapshot", etag);
  ASSERT_EQ(second->status, 200);
  EXPECT_NE(second->headers.at("ETag"), etag);
  EXPECT_EQ(view.version(), v0 + 1);
  EXPECT_EQ(Json::parse(second->body)["version"], v0 + 1);
  ASSERT_TRUE(p.DeleteService(created.value->uuid));
  EXPECT_EQ(Json::parse(view.Handle("GET", "/ui/api/version")->body)["version"], v0 + 2);
  ExpectGridMatchesPce(p, view.Snapshot());
}

TEST(LiveViewSnapshot, PathsAndErrors) {
  pce::Pce p(pce::testing::SmallConfig());
  LiveView view(p);
  EXPECT_FALSE(view.Handle("GET", "/restconf/data"));
  EXPECT_FALSE(view.Handle("GET", "/uix"));
  auto page = view.Handle("GET", "/ui");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->content_type.find("text/html"), std::string::npos);
  EXPECT_NE(page->body.find("/ui/app.js"), std::string::npos);
  EXPECT_EQ(view.Handle("GET", "/ui/")->body, page->body);
  EXPECT_NE(view.Handle("GET", "/ui/app.js")->content_type.find("javascript"), std::string::npos);
  EXPECT_NE(view.Handle("GET", "/ui/style.css")->content_type.find("css"), std::string::npos);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"GET", "/ui/nope.js"}, {"GET", "/ui/api/nope"}, {"GET", "/ui/../pce.json"}, {"GET", "/ui/api/snapshot/x"},
      {"GET", std::string("/ui/\0\xff\xfe", 7)}, {"GET", "/ui/" + std::string(100000, 'a')},
      {"POST", "/ui/api/snapshot"}, {"DELETE", "/ui"}, {"PUT", "/ui/app.js"}};
  for (const auto& [method, path] : bad) {
    auto r = view.Handle(method, path);
    ASSERT_TRUE(r) << path.substr(0, 40);
    EXPECT_GE(r->status, 400);
    const Json body = Json::parse(r->body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << r->body.substr(0, 200);
    EXPECT_TRUE(body.contains("ietf-restconf:errors"));
    EXPECT_EQ(r->content_type, "application/json");
    EXPECT_LT(r->body.size(), 2000u);
  }
  EXPECT_EQ(view.Handle("POST", "/ui")->status, 405);
}

// --- the page in headless Chromium, served by the PCE --------------------------------------------

struct Row {
  std::string uuid, band, modulation, slot, width;
};

// <tr ... data-uuid=...> rows of the services table, and the data-occ attribute of each card.
std::vector<Row> ServiceRows(const std::string& dom) {
  std::vector<Row> rows;
  static const std::regex tr("<tr [^>]*data-uuid=\"[^\"]+\"[^>]*>");
  auto attr = [](const std::string& tag, const std::string& name) {
    std::smatch m;
    return std::regex_search(tag, m, std::regex(" " + name + "=\"([^\"]*)\"")) ? m[1].str() : std::string();
  };
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), tr); it != std::sregex_iterator(); ++it) {
    const std::string tag = it->str();
    rows.push_back({attr(tag, "data-uuid"), attr(tag, "data-band"), attr(tag, "data-modulation"), attr(tag, "data-slot"),
                    attr(tag, "data-width")});
  }
  return rows;
}

std::map<int, std::string> CardOccupancy(const std::string& dom) {
  std::map<int, std::string> out;
  static const std::regex card("<div class=\"card[^\"]*\" data-fibre=\"([0-9]+)\"[^>]*>");
  static const std::regex occ(" data-occ=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), card); it != std::sregex_iterator(); ++it) {
    const std::string tag = it->str();
    std::smatch m;
    out[std::stoi((*it)[1].str())] = std::regex_search(tag, m, occ) ? m[1].str() : "";
  }
  return out;
}

TEST(LiveViewPage, ShowsProvisionedServicesAndTheirSlotsAndFollowsADeletion) {
  if (!tracking::testing::ChromiumAvailable()) GTEST_SKIP() << "no /usr/bin/chromium";
  pce::testing::TempDir dir;
  pce::PceSetup setup;
  setup.state_db = dir / "state.db";
  Server server(MultiBandConfig(), setup);
  pce::Pce& p = server.pce();
  const auto& ted = p.ted();

  // A dozen services Seattle -> Princeton (C fills, L takes the rest) and a few elsewhere.
  std::vector<std::string> uuids;
  for (int i = 0; i < 14; ++i) {
    const bool pair = i < 11;
    const std::string uuid = pce::NameUuid("live-view-test/" + std::to_string(i));
    const Json body = testing::ServiceBody(ted.SipUuid(pair ? 0 : i % 7), ted.SipUuid(pair ? 12 : 13 - i % 5), pair ? 100 : 200, uuid);
    const auto r = server.Post(testing::kConnectivity, body);
    if (!pair && r.status == 409) continue;  // no spectrum left there: a refusal, not a failure
    ASSERT_EQ(r.status, 201) << r.text;
    uuids.push_back(uuid);
  }
  const auto services = p.ListServices();
  ASSERT_EQ(services.size(), uuids.size());

  const std::string url = server.Url() + "/ui";
  const auto first = tracking::testing::RunChromium(
      {"--virtual-time-budget=5000", "--window-size=1600,1000", "--dump-dom", url});
  ASSERT_EQ(first.exit_code, 0);
  ASSERT_NE(first.out.find("data-rendered=\"1\""), std::string::npos) << first.out.substr(0, 2000);

  auto rows = ServiceRows(first.out);
  ASSERT_EQ(rows.size(), services.size());
  std::map<std::string, Row> by_uuid;
  for (const auto& r : rows) by_uuid[r.uuid] = r;
  std::set<std::string> bands;
  for (const auto& s : services) {
    ASSERT_TRUE(by_uuid.count(s.uuid)) << s.uuid;
    const Row& r = by_uuid[s.uuid];
    EXPECT_EQ(r.band, s.decision.band_name);
    EXPECT_EQ(r.modulation, s.decision.modulation_name);
    EXPECT_EQ(r.slot, std::to_string(s.decision.slot));
    EXPECT_EQ(r.width, std::to_string(s.decision.width));
    bands.insert(r.band);
    // On the map, too.
    EXPECT_NE(first.out.find("class=\"route\"", first.out.find("data-uuid=\"" + s.uuid + "\" data-band")), std::string::npos);
  }
  EXPECT_GE(bands.size(), 2u);

  // Each link's card lists exactly the slot runs the PCE has booked on it, by owner.
  auto expected_cards = [&](const std::vector<pce::Service>& list) {
    std::map<int, std::multiset<std::string>> out;
    for (const auto& s : list) {
      for (int f : s.decision.fibres) {
        out[f].insert(s.decision.band_name + ":" + std::to_string(s.decision.slot) + "+" +
                      std::to_string(s.decision.width) + ":" + s.uuid);
      }
    }
    return out;
  };
  auto tokens = [](const std::string& occ) {
    std::multiset<std::string> out;
    std::istringstream in(occ);
    for (std::string t; in >> t;) out.insert(t);
    return out;
  };
  auto cards = CardOccupancy(first.out);
  ASSERT_EQ(static_cast<int>(cards.size()), ted.NumFibres());
  auto want = expected_cards(services);
  for (const auto& [f, occ] : cards) EXPECT_EQ(tokens(occ), want[f]) << ted.LinkName(f);

  // Decisions list and figures.
  EXPECT_NE(first.out.find("data-figure=\"blocking\""), std::string::npos);
  EXPECT_NE(first.out.find("<li data-uuid=\"" + services.back().uuid + "\""), std::string::npos);

  tracking::testing::RunChromium({"--virtual-time-budget=5000", "--window-size=1600,1000",
                                  "--screenshot=" + std::string(EONOPS_BINARY_DIR) + "/live_view.png", url});

  // Delete one through TAPI: the next load no longer shows it and its slots are free.
  const std::string gone = uuids[3];
  const auto del = server.Delete(std::string(testing::kConnectivity) + "/connectivity-service=" + gone);
  ASSERT_EQ(del.status, 204) << del.text;
  const auto second = tracking::testing::RunChromium(
      {"--virtual-time-budget=5000", "--window-size=1600,1000", "--dump-dom", url});
  ASSERT_NE(second.out.find("data-rendered=\"1\""), std::string::npos);
  EXPECT_EQ(ServiceRows(second.out).size(), services.size() - 1);
  EXPECT_EQ(second.out.find(gone), std::string::npos);
  want = expected_cards(p.ListServices());
  for (const auto& [f, occ] : CardOccupancy(second.out)) EXPECT_EQ(tokens(occ), want[f]) << ted.LinkName(f);

  // The JSON endpoints over HTTP: open, JSON errors.
  EXPECT_EQ(server.Get("/ui/api/snapshot").status, 200);
  const auto missing = server.Get("/ui/api/missing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(missing.body.contains("ietf-restconf:errors"));
}

}  // namespace
}  // namespace eonops::tapi
