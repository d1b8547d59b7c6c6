// A minimal simcore-agent/1 client in C++17 (standard library only).
//
// Written from docs/agent-protocol.md alone: it reads one JSON message per line from stdin
// and answers on stdout, logging to stderr. Driving: pure pursuit on the route for the wheel,
// IDM towards the nearest thing ahead in its path for the speed (vehicles and pedestrians on
// the route, red / amber stop lines, occupied crosswalks, the end of the route).
//
// Build:  g++ -std=c++17 -O2 -Wall -Wextra -o simple_client simple_client.cpp
// Run:    simcore run urban/signalized_intersection --agent "exec:./simple_client"
//
// Units: SI (m, s, rad, m/s, m/s^2); positions in the ENU world frame; the vehicle's
// reference point is the rear-axle centre.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace json {

// ---------------------------------------------------------------------------------------------
// A small JSON value and an RFC 8259 reader, enough for the protocol's messages.

struct Value {
    enum class Kind { Null, Bool, Number, String, Array, Object };
    Kind kind = Kind::Null;
    bool b = false;
    double num = 0.0;
    std::string str;
    std::vector<Value> arr;
    std::map<std::string, Value> obj;

    bool is_null() const { return kind == Kind::Null; }

    // Member lookup; a missing member (or a non-object) reads as null.
    const Value& operator[](const std::string& key) const {
        static const Value null_value;
        if (kind != Kind::Object) return null_value;
        auto it = obj.find(key);
        return it == obj.end() ? null_value : it->second;
    }

    // Numbers; null (the protocol's encoding of a non-finite value) reads as NaN.
    double as_number() const {
        if (kind == Kind::Number) return num;
        if (kind == Kind::Null) return std::nan("");
        throw std::runtime_error("expected a number");
    }

    const std::string& as_string() const {
        if (kind != Kind::String) throw std::runtime_error("expected a string");
        return str;
    }

    std::vector<double> as_numbers() const {
        std::vector<double> out;
        if (kind != Kind::Array) throw std::runtime_error("expected an array");
        out.reserve(arr.size());
        for (const Value& v : arr) out.push_back(v.as_number());
        return out;
    }
};

class Reader {
  public:
    explicit Reader(const std::string& text) : s_(text) {}

    Value parse() {
        Value v = value();
        ws();
        if (i_ != s_.size()) fail("trailing characters");
        return v;
    }

  private:
    const std::string& s_;
    size_t i_ = 0;

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(i_));
    }
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    char peek() {
        ws();
        if (i_ >= s_.size()) fail("unexpected end");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }
    void literal(const char* word) {
        for (const char* p = word; *p; ++p, ++i_) {
            if (i_ >= s_.size() || s_[i_] != *p) fail(std::string("bad literal, expected ") + word);
        }
    }

    Value value() {
        Value v;
        char c = peek();
        if (c == '{') {
            v.kind = Value::Kind::Object;
            ++i_;
            if (peek() == '}') {
                ++i_;
                return v;
            }
            for (;;) {
                if (peek() != '"') fail("expected a member name");
                std::string key = string();
                expect(':');
                v.obj[key] = value();
                if (peek() == ',') {
                    ++i_;
                    continue;
                }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.kind = Value::Kind::Array;
            ++i_;
            if (peek() == ']') {
                ++i_;
                return v;
            }
            for (;;) {
                v.arr.push_back(value());
                if (peek() == ',') {
                    ++i_;
                    continue;
                }
                expect(']');
                return v;
            }
        }
        if (c == '"') {
            v.kind = Value::Kind::String;
            v.str = string();
            return v;
        }
        if (c == 't') {
            literal("true");
            v.kind = Value::Kind::Bool;
            v.b = true;
            return v;
        }
        if (c == 'f') {
            literal("false");
            v.kind = Value::Kind::Bool;
            return v;
        }
        if (c == 'n') {
            literal("null");
            return v;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            v.kind = Value::Kind::Number;
            v.num = number();
            return v;
        }
        fail(std::string("unexpected character '") + c + "'");
    }

    double number() {
        size_t start = i_;
        if (s_[i_] == '-') ++i_;
        auto digits = [&] {
            size_t d = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
            if (i_ == d) fail("bad number");
        };
        digits();
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            digits();
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            digits();
        }
        // strtod honours the C locale, which a freshly started program keeps ("C").
        return std::strtod(s_.substr(start, i_ - start).c_str(), nullptr);
    }

    static void put_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    unsigned hex4() {
        if (i_ + 4 > s_.size()) fail("short \\u escape");
        unsigned cp = 0;
        for (int k = 0; k < 4; ++k) {
            char h = s_[i_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= static_cast<unsigned>(h - 'A' + 10);
            else fail("bad \\u escape");
        }
        return cp;
    }

    std::string string() {
        expect('"');
        std::string out;
        for (;;) {
            if (i_ >= s_.size()) fail("unterminated string");
            char c = s_[i_++];
            if (c == '"') return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) fail("unterminated escape");
            char e = s_[i_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && i_ + 6 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
                        i_ += 2;
                        unsigned lo = hex4();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    put_utf8(out, cp);
                    break;
                }
                default: fail("bad escape");
            }
        }
    }
};

// ---------------------------------------------------------------------------------------------
// Writing: the client only sends flat objects of strings and numbers, built by hand.

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        unsigned char u = static_cast<unsigned char>(c);
        if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else out += c;
    }
    return out + "\"";
}

// A finite double with round-trip precision; anything else as null (JSON has no NaN).
std::string number(double x) {
    if (!std::isfinite(x)) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

}  // namespace json

// -------------------------------------------------------------------------------------------------
// Driving.

namespace {

constexpr const char* kProtocol = "simcore-agent/1";

struct Route {
    std::vector<double> x, y, s, speed_limit, curvature;
    double goal_s = 0.0;
};

struct Vehicle {
    double length = 4.5, width = 1.8, wheelbase = 2.7, rear_overhang = 1.0;
    double max_steer = 0.5, max_accel = 3.0, max_decel = 8.0;
};

struct Agent {
    Route route;
    Vehicle vehicle;
    size_t hint = 0;  // index of the route sample nearest the rear axle last step

    // IDM parameters (SI units).
    double time_headway = 1.5;  // s
    double min_gap = 2.5;       // m, kept to vehicles and pedestrians
    double stop_margin = 1.0;   // m, front bumper to a stop line when stopped
    double comfort_decel = 2.5; // m/s^2, IDM's b
    double max_lat_accel = 2.0; // m/s^2, caps the speed in curves

    void reset(const json::Value& msg) {
        const json::Value& r = msg["route"];
        route.x = r["x"].as_numbers();
        route.y = r["y"].as_numbers();
        route.s = r["s"].as_numbers();
        route.speed_limit = r["speed_limit"].as_numbers();
        route.curvature = r["curvature"].as_numbers();
        route.goal_s = r["goal_s"].as_number();
        if (route.x.size() < 2 || route.y.size() != route.x.size() || route.s.size() != route.x.size())
            throw std::runtime_error("route needs at least 2 samples with x, y, s of equal length");
        const json::Value& v = msg["vehicle"];
        vehicle.length = v["length"].as_number();
        vehicle.width = v["width"].as_number();
        vehicle.wheelbase = v["wheelbase"].as_number();
        vehicle.rear_overhang = v["rear_overhang"].as_number();
        vehicle.max_steer = v["max_steer"].as_number();
        vehicle.max_accel = v["max_accel"].as_number();
        vehicle.max_decel = v["max_decel"].as_number();
        hint = 0;
    }

    // Nearest route sample to (x, y), searched in a window around the last one.
    size_t nearest(double x, double y, size_t from, size_t window) const {
        size_t lo = from > window ? from - window : 0;
        size_t hi = std::min(route.x.size(), from + window + 1);
        size_t best = lo;
        double best_d = INFINITY;
        for (size_t i = lo; i < hi; ++i) {
            double d = std::hypot(route.x[i] - x, route.y[i] - y);
            if (d < best_d) {
                best_d = d;
                best = i;
            }
        }
        return best;
    }

    // Route point at arc length s (linear interpolation, clamped to the route's ends).
    void point_at(double s, double& x, double& y) const {
        const auto& S = route.s;
        if (s <= S.front()) {
            x = route.x.front();
            y = route.y.front();
            return;
        }
        if (s >= S.back()) {
            // Straight on past the end, along the last segment.
            size_t n = S.size();
            double dx = route.x[n - 1] - route.x[n - 2], dy = route.y[n - 1] - route.y[n - 2];
            double ds = std::max(S[n - 1] - S[n - 2], 1e-9);
            x = route.x[n - 1] + dx / ds * (s - S[n - 1]);
            y = route.y[n - 1] + dy / ds * (s - S[n - 1]);
            return;
        }
        size_t i = static_cast<size_t>(std::upper_bound(S.begin(), S.end(), s) - S.begin()) - 1;
        double f = (s - S[i]) / std::max(S[i + 1] - S[i], 1e-9);
        x = route.x[i] + f * (route.x[i + 1] - route.x[i]);
        y = route.y[i] + f * (route.y[i + 1] - route.y[i]);
    }

    // Route heading (rad, ENU) at sample i.
    double heading(size_t i) const {
        size_t a = i + 1 < route.x.size() ? i : i - 1;
        return std::atan2(route.y[a + 1] - route.y[a], route.x[a + 1] - route.x[a]);
    }

    // IDM acceleration towards a leader `gap` m ahead of the front bumper moving at v_lead.
    double idm(double v, double v0, double gap, double v_lead, double s0) const {
        double a = vehicle.max_accel;
        double dv = v - v_lead;
        double s_star = s0 + std::max(0.0, v * time_headway + v * dv / (2.0 * std::sqrt(a * comfort_decel)));
        double free = 1.0 - std::pow(v / std::max(v0, 0.1), 4);
        double g = std::max(gap, 0.1);
        return a * (free - (s_star / g) * (s_star / g));
    }

    // One control for one observation: returns (accel m/s^2, steer rad).
    std::pair<double, double> act(const json::Value& obs) {
        const json::Value& st = obs["state"];
        double x = st["x"].as_number(), y = st["y"].as_number(), yaw = st["yaw"].as_number();
        double v = std::max(0.0, st["speed"].as_number());
        double progress = st["progress"].as_number();
        double limit = st["speed_limit"].as_number();
        if (!std::isfinite(limit)) limit = 8.0;

        // --- wheel: pure pursuit to the route point L_d ahead of the rear axle's projection.
        hint = nearest(x, y, hint, hint == 0 ? route.x.size() : 30);
        double s_here = route.s[hint];
        double ld = std::max(5.0, 0.8 * v);
        double tx, ty;
        point_at(s_here + ld, tx, ty);
        double alpha = std::atan2(ty - y, tx - x) - yaw;
        double d = std::max(std::hypot(tx - x, ty - y), 1.0);
        double steer = std::atan(2.0 * vehicle.wheelbase * std::sin(alpha) / d);
        steer = std::clamp(steer, -vehicle.max_steer, vehicle.max_steer);

        // --- desired speed: the limit, lowered ahead of curves and lower limits.
        double v0 = limit;
        for (size_t i = hint; i < route.s.size() && route.s[i] < s_here + 40.0; ++i) {
            double dist = std::max(0.0, route.s[i] - s_here - vehicle.wheelbase);
            double vi = route.speed_limit[i];
            double k = std::fabs(route.curvature[i]);
            if (k > 1e-6) vi = std::min(vi, std::sqrt(max_lat_accel / k));
            // Speed from which comfort braking reaches vi within dist.
            v0 = std::min(v0, std::sqrt(vi * vi + 2.0 * comfort_decel * dist));
        }
        v0 = std::max(v0, 1.0);

        // --- longitudinal: IDM to the most restrictive obstacle ahead in the path.
        double front = progress + vehicle.length - vehicle.rear_overhang;  // route s of the front bumper
        double accel = idm(v, v0, INFINITY, v, min_gap);

        auto stop_at = [&](double s_stop) {  // a standing obstacle at route s (stop before it)
            double gap = s_stop - front;
            accel = std::min(accel, idm(v, v0, gap, 0.0, stop_margin));
        };

        // Signals: stop for red and red-amber; for amber only if a comfortable stop is possible.
        const json::Value& sl = obs["stop_lines"];
        std::vector<double> line_s = sl["s"].as_numbers();
        std::vector<double> line_state = sl["state"].as_numbers();
        for (size_t i = 0; i < line_s.size() && i < line_state.size(); ++i) {
            double gap = line_s[i] - front;
            if (gap < -0.5) continue;  // already across it
            int state = static_cast<int>(line_state[i]);
            bool stop = state == 0 || state == 3;
            if (state == 1) stop = gap > v * v / (2.0 * comfort_decel * 1.5);
            if (stop) stop_at(line_s[i]);
        }

        // Occupied crosswalks ahead (and not yet entered): stop before them.
        const json::Value& cw = obs["crosswalks"];
        std::vector<double> cw_s0 = cw["s0"].as_numbers();
        const json::Value& occ = cw["occupied"];
        for (size_t i = 0; i < cw_s0.size() && i < occ.arr.size(); ++i) {
            if (occ.arr[i].kind == json::Value::Kind::Bool && occ.arr[i].b && cw_s0[i] - front > -0.5)
                stop_at(cw_s0[i]);
        }

        // Other actors whose box lies on the route ahead, within the ego's width.
        const json::Value& ob = obs["objects"];
        std::vector<double> ox = ob["x"].as_numbers(), oy = ob["y"].as_numbers();
        std::vector<double> oyaw = ob["yaw"].as_numbers(), ospeed = ob["speed"].as_numbers();
        std::vector<double> olen = ob["length"].as_numbers(), owid = ob["width"].as_numbers();
        std::vector<double> ooff = ob["center_offset"].as_numbers();
        for (size_t j = 0; j < ox.size(); ++j) {
            double cx = ox[j] + ooff[j] * std::cos(oyaw[j]);
            double cy = oy[j] + ooff[j] * std::sin(oyaw[j]);
            if (std::hypot(cx - x, cy - y) > 80.0) continue;
            size_t k = nearest(cx, cy, hint, 90);
            if (route.s[k] < s_here - 2.0) continue;  // behind
            double h = heading(k);
            double lat = -(cx - route.x[k]) * std::sin(h) + (cy - route.y[k]) * std::cos(h);
            double lon = (cx - route.x[k]) * std::cos(h) + (cy - route.y[k]) * std::sin(h);
            // Half extent of the object's box across the route.
            double rel = oyaw[j] - h;
            double half_across = 0.5 * (std::fabs(olen[j] * std::sin(rel)) + std::fabs(owid[j] * std::cos(rel)));
            double half_along = 0.5 * (std::fabs(olen[j] * std::cos(rel)) + std::fabs(owid[j] * std::sin(rel)));
            if (std::fabs(lat) - half_across > 0.5 * vehicle.width + 0.4) continue;  // not in our lane
            double rear = route.s[k] + lon - half_along;
            double gap = rear - front;
            if (gap < -vehicle.length) continue;  // beside or behind us
            double v_along = std::max(0.0, ospeed[j] * std::cos(rel));
            accel = std::min(accel, idm(v, v0, gap, v_along, min_gap));
        }

        // The end of the route: come to rest there.
        stop_at(route.s.back());

        accel = std::clamp(accel, -vehicle.max_decel, vehicle.max_accel);
        if (v < 0.05 && accel < 0.0) accel = -1.0;  // hold still without hammering the brake
        return {accel, steer};
    }
};

void send(const std::string& line) {
    std::cout << line << '\n';
    std::cout.flush();  // the engine waits for each whole line
}

}  // namespace

int main() {
    std::ios::sync_with_stdio(false);
    Agent agent;
    std::string line;
    long steps = 0;
    while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        json::Value msg;
        try {
            msg = json::Reader(line).parse();
        } catch (const std::exception& e) {
            std::cerr << "simple_client: cannot parse a message: " << e.what() << '\n';
            return 2;
        }
        const std::string type = msg["type"].kind == json::Value::Kind::String ? msg["type"].str : "";
        try {
            if (type == "hello") {
                if (msg["protocol"].kind != json::Value::Kind::String || msg["protocol"].str != kProtocol) {
                    std::cerr << "simple_client: engine speaks an unknown protocol\n";
                }
                send(std::string("{\"type\":\"hello\",\"protocol\":") + json::quote(kProtocol) +
                     ",\"name\":\"cpp-simple\"}");
            } else if (type == "reset") {
                agent.reset(msg);
                std::cerr << "simple_client: reset for role " << msg["role"].as_string() << ", route "
                          << agent.route.s.back() << " m, goal at " << agent.route.goal_s << " m\n";
            } else if (type == "observation") {
                auto [accel, steer] = agent.act(msg);
                long step = static_cast<long>(msg["step"].as_number());
                send("{\"type\":\"control\",\"step\":" + std::to_string(step) + ",\"accel\":" + json::number(accel) +
                     ",\"steer\":" + json::number(steer) + "}");
                ++steps;
            } else if (type == "close") {
                break;
            }
            // Other message types: ignored (later protocol versions may add some).
        } catch (const std::exception& e) {
            std::cerr << "simple_client: bad " << type << " message: " << e.what() << '\n';
            return 2;
        }
    }
    std::cerr << "simple_client: done after " << steps << " steps\n";
    return 0;
}
