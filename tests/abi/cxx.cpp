// The public names from C++: they compile, take their address, and keep to the struct of
// this header (no write past it).
#include "sqlpool.h"

#include <cstdio>
#include <cstring>

namespace {

struct config_box {
    sqlpool_config cfg;
    unsigned char after[32];
};
struct stats_box {
    sqlpool_stats st;
    unsigned char after[32];
};

bool intact(const unsigned char *p, std::size_t n) {
    for (std::size_t i = 0; i < n; i++)
        if (p[i] != 0xA5) return false;
    return true;
}

} // namespace

int main() {
    void (*init)(sqlpool_config *) = &sqlpool_config_init;
    int (*open)(const sqlpool_config *, sqlpool **) = &sqlpool_open;
    void (*get)(sqlpool *, sqlpool_stats *) = &sqlpool_stats_get;
    config_box cb;
    stats_box sb;
    sqlpool *pool = nullptr;
    int failures = 0;
    std::memset(&cb, 0xA5, sizeof cb);
    init(&cb.cfg);
    if (!intact(cb.after, sizeof cb.after) || cb.cfg.max_idle != 5) failures++;
    if (open(&cb.cfg, &pool) != SQLPOOL_OK || pool == nullptr) {
        std::fprintf(stderr, "open: %s\n", sqlpool_errmsg());
        return 1;
    }
    std::memset(&sb, 0xA5, sizeof sb);
    get(pool, &sb.st);
    if (!intact(sb.after, sizeof sb.after) || sb.st.max_idle != 5 || sb.st.created != 0) failures++;
    if (sqlpool_stats_get_sized(pool, &sb.st, 8) != SQLPOOL_EINVAL) failures++;
    sqlpool_close(pool);
    if (failures != 0) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("ok: C++\n");
    return 0;
}
