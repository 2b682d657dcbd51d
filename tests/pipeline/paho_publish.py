"""Publishes one file with QoS 1 through paho-mqtt over TLS 1.3, with the
SSLContext configured as in section 17.4 of the reference chapter: TLS 1.3
only, our CA, a client certificate, CERT_REQUIRED and the hostname checked.
Exit 0 only once the PUBACK has arrived.

usage: paho_publish.py HOST PORT CA CERT KEY TOPIC FILE
"""
import ssl
import sys

import paho.mqtt.client as mqtt


def create_tls_context(ca, cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    # The chapter also calls set_ciphers() with TLS 1.3 suite names; Python's
    # set_ciphers() only configures TLS 1.2 suites and rejects that list, and
    # OpenSSL's TLS 1.3 defaults are the same three suites.
    context.load_verify_locations(cafile=ca)
    context.load_cert_chain(certfile=cert, keyfile=key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


def main():
    host, port, ca, cert, key, topic, path = sys.argv[1:8]
    payload = open(path, "rb").read()
    client = mqtt.Client(client_id="paho-interop", protocol=mqtt.MQTTv311)
    client.tls_set_context(create_tls_context(ca, cert, key))
    client.connect(host, port=int(port), keepalive=30)
    client.loop_start()
    info = client.publish(topic, payload, qos=1)
    info.wait_for_publish(timeout=20)
    ok = info.is_published()
    client.disconnect()
    client.loop_stop()
    print("published" if ok else "no PUBACK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
