package etl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
)

// testCA makes a certificate authority and a server certificate for 127.0.0.1 signed by it.
func testCA(t *testing.T) (serverCert tls.Certificate, caPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kafka"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// A broker that demands SASL (and, for one case, TLS): the worker's client setup must get in
// with each mechanism hosted Kafka offers, and be refused with a wrong password.
func TestKafkaSASLAndTLS(t *testing.T) {
	cert, caPEM := testCA(t)
	for _, c := range []struct {
		mechanism string
		tls       bool
	}{{"PLAIN", false}, {"SCRAM-SHA-256", false}, {"SCRAM-SHA-512", false}, {"SCRAM-SHA-512", true}} {
		t.Run(c.mechanism, func(t *testing.T) {
			opts := []kfake.Opt{kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(c.mechanism, "alice", "s3cret"),
				kfake.SeedTopics(1, "sales.files")}
			if c.tls {
				opts = append(opts, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}))
			}
			cluster, err := kfake.NewCluster(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer cluster.Close()
			kc := KafkaOptions{
				ClientID: "test", SASLUsername: "alice", SASLPassword: "s3cret", SASLMechanism: c.mechanism, TLS: c.tls,
			}
			if c.tls {
				kc.TLSCA = caPEM
			}
			scfg := NewSaramaConfig(kc)
			scfg.Metadata.Retry.Max = 0
			p, err := sarama.NewSyncProducer(cluster.ListenAddrs(), scfg)
			if err != nil {
				t.Fatalf("connect with %s: %v", c.mechanism, err)
			}
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "sales.files", Value: sarama.StringEncoder("{}")}); err != nil {
				t.Errorf("produce with %s: %v", c.mechanism, err)
			}
			p.Close()

			kc.SASLPassword = "wrong"
			bad := NewSaramaConfig(kc)
			bad.Metadata.Retry.Max = 0
			if p, err := sarama.NewSyncProducer(cluster.ListenAddrs(), bad); err == nil {
				p.Close()
				t.Errorf("a wrong password got in with %s", c.mechanism)
			}
		})
	}
}
