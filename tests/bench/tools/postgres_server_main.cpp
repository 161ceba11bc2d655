// The ctest fixture "postgres": `start` before the integration tests, `stop`
// after them (tests/CMakeLists.txt). Does nothing unless
// PPO_TEST_DATABASE=postgresql, so that the SQLite run costs nothing.
#include "bench/postgres_server.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    using ppo::testbench::PostgresServer;
    const std::string mode = argc > 1 ? argv[1] : "";
    const std::string state = ppo::testbench::postgres_state_file();
    std::error_code ec;
    try {
        if (mode == "start") {
            std::filesystem::remove(state, ec);
            if (!ppo::testbench::postgres_wanted()) {
                std::cout << "PPO_TEST_DATABASE is not postgresql: the tests use SQLite, no server started\n";
                return 0;
            }
            PostgresServer server;
            server.detach();
            std::ofstream(state) << server.state();
            std::cout << "PostgreSQL started: socket folder " << server.socket_dir() << ", port " << server.port() << "\n";
            return 0;
        }
        if (mode == "stop") {
            if (!std::filesystem::exists(state, ec)) return 0;
            PostgresServer server(state);
            server.adopt();
            server.stop();
            std::filesystem::remove(state, ec);
            std::cout << "PostgreSQL stopped\n";
            return 0;
        }
    } catch (const std::exception& e) {
        std::cerr << "ppo_postgres_server " << mode << ": " << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: ppo_postgres_server start|stop\n";
    return 2;
}
