// PARROT_METRICS_BIND turns the worker's Prometheus endpoint on; unset, metrics stay off.
import assert from 'node:assert/strict';
import { metricsBindFromEnv, runtimeOptionsFromEnv } from '../../src/telemetry/runtime';

describe('PARROT_METRICS_BIND', () => {
  it('is off unless set', () => {
    assert.equal(metricsBindFromEnv({}), undefined);
    assert.equal(metricsBindFromEnv({ PARROT_METRICS_BIND: ' ' }), undefined);
    assert.equal(runtimeOptionsFromEnv({}).telemetryOptions, undefined);
  });

  it('binds the SDK’s Prometheus exporter to host:port', () => {
    const metrics = runtimeOptionsFromEnv({ PARROT_METRICS_BIND: '0.0.0.0:9464' }).telemetryOptions?.metrics;
    assert.ok(metrics && 'prometheus' in metrics);
    assert.equal(metrics.prometheus.bindAddress, '0.0.0.0:9464');
    assert.ok(metrics.prometheus.histogramBucketOverrides?.parrot_llm_call_latency?.includes(60_000));
  });

  it('refuses anything but host:port', () => {
    for (const bad of ['9464', 'localhost', 'localhost:99999', ':'])
      assert.throws(() => metricsBindFromEnv({ PARROT_METRICS_BIND: bad }), /host:port/);
  });
});
