#include "daemon/http_server.h"

#include "parsers/error.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

namespace ppo::daemon {

namespace {

using Poco::Net::HTTPResponse;

class Handler final : public Poco::Net::HTTPRequestHandler {
public:
    Handler(const Metrics& metrics, const std::function<Health()>& health) : metrics_(metrics), health_(health) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        std::string path = request.getURI();
        if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
        const bool head = request.getMethod() == Poco::Net::HTTPRequest::HTTP_HEAD;
        if (!head && request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET) {
            response.set("Allow", "GET, HEAD");
            send(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "method not allowed\n", head);
            return;
        }
        if (path == "/healthz") {
            auto h = health_();
            send(response, h.healthy ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "application/json",
                 h.json() + "\n", head);
        } else if (path == "/metrics") {
            send(response, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", metrics_.render_prometheus(),
                 head);
        } else {
            send(response, HTTPResponse::HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n",
                 head);
        }
    }

private:
    static void send(Poco::Net::HTTPServerResponse& response, HTTPResponse::HTTPStatus status, const std::string& type,
                     const std::string& body, bool head) {
        response.setStatus(status);
        response.setContentType(type);
        response.set("Cache-Control", "no-store");
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        if (head) {
            response.send();
            return;
        }
        response.sendBuffer(body.data(), body.size());
    }

    const Metrics& metrics_;
    const std::function<Health()>& health_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    Factory(const Metrics& metrics, std::function<Health()> health) : metrics_(metrics), health_(std::move(health)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Handler(metrics_, health_);
    }

private:
    const Metrics& metrics_;
    std::function<Health()> health_;
};

}  // namespace

HttpServer::HttpServer(const std::string& listen, const Metrics& metrics, std::function<Health()> health) {
    Poco::Net::ServerSocket socket;
    try {
        Poco::Net::SocketAddress address(listen);
        socket.bind(address, true, false);   // SO_REUSEADDR, not SO_REUSEPORT
        socket.listen(16);
    } catch (const Poco::Exception& e) {
        throw config_error("[http] listen = " + listen + ": cannot listen: " + e.displayText());
    }
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(2);
    params->setMaxQueued(16);
    params->setKeepAlive(false);
    params->setTimeout(Poco::Timespan(5, 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(metrics, std::move(health)), socket, params);
    server_->start();
}

HttpServer::~HttpServer() {
    if (server_) server_->stopAll(true);
}

int HttpServer::port() const { return server_->port(); }

}  // namespace ppo::daemon
