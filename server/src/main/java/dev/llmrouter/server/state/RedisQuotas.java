package dev.llmrouter.server.state;

import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.api.v1.KeySpend;
import dev.llmrouter.server.auth.Quotas;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.List;
import java.util.Optional;

/**
 * The counters of every replica in one Redis: each window is a hash {@code {total, ends}} (epoch milliseconds),
 * {@code llmr:quota:{id}:calls}, {@code :tokens} and {@code :spend} (billionths of a US dollar), expiring with its
 * window. A check and the count it takes are one Lua script, so replicas never let more calls through than the limit
 * between them. The time comes from the router's clock (replicas agree on it to within their NTP drift).
 */
final class RedisQuotas implements Quotas {

  /** KEYS: calls, tokens, spend. ARGV: now, a new calls window's end, calls and tokens per minute, budget or -1. */
  private static final RedisScript ADMIT = new RedisScript("""
      local now = tonumber(ARGV[1])
      local function open(key)
        local window = redis.call('HMGET', key, 'total', 'ends')
        local ends = tonumber(window[2])
        if ends == nil or now >= ends then return 0, now end
        return tonumber(window[1]), ends
      end
      local budget = tonumber(ARGV[5])
      if budget >= 0 then
        local spent, ends = open(KEYS[3])
        if spent >= budget then return {1, ends - now} end
      end
      local tpm = tonumber(ARGV[4])
      if tpm > 0 then
        local tokens, ends = open(KEYS[2])
        if tokens >= tpm then return {2, ends - now} end
      end
      local rpm = tonumber(ARGV[3])
      if rpm > 0 then
        local calls, ends = open(KEYS[1])
        if calls >= rpm then return {3, ends - now} end
        if calls == 0 then
          redis.call('HSET', KEYS[1], 'total', 1, 'ends', ARGV[2])
          redis.call('PEXPIREAT', KEYS[1], ARGV[2])
        else
          redis.call('HINCRBY', KEYS[1], 'total', 1)
        end
      end
      return {0, 0}""");
  /** KEYS: tokens, spend. ARGV: now, tokens, a new tokens window's end, cost, a new budget window's end. */
  private static final RedisScript CHARGE = new RedisScript("""
      local now = tonumber(ARGV[1])
      local function add(key, amount, ends)
        if tonumber(amount) <= 0 then return end
        local current = tonumber(redis.call('HGET', key, 'ends'))
        if current == nil or now >= current then
          redis.call('HSET', key, 'total', amount, 'ends', ends)
          redis.call('PEXPIREAT', key, ends)
        else
          redis.call('HINCRBY', key, 'total', amount)
        end
      end
      add(KEYS[1], ARGV[2], ARGV[3])
      add(KEYS[2], ARGV[4], ARGV[5])
      return 0""");
  private static final Limit[] LIMITS = {null, Limit.BUDGET, Limit.TOKENS_PER_MINUTE, Limit.REQUESTS_PER_MINUTE};

  private final Redis redis;

  RedisQuotas(Redis redis) {
    this.redis = redis;
  }

  private static List<String> windows(CallerKey key, String... names) {
    return java.util.Arrays.stream(names).map(name -> "llmr:quota:{" + key.getId() + "}:" + name).toList();
  }

  @Override
  public Future<Optional<Refusal>> admit(CallerKey key, long nowMillis) {
    KeyLimits limits = key.getLimits();
    return ADMIT.run(redis, windows(key, "calls", "tokens", "spend"), List.of(String.valueOf(nowMillis),
            String.valueOf(nowMillis + MINUTE_MILLIS), String.valueOf(limits.getRequestsPerMinute()),
            String.valueOf(limits.getTokensPerMinute()), String.valueOf(Quotas.budgetNanos(limits))))
        .map(answer -> {
          int limit = answer.get(0).toInteger();
          return limit == 0 ? Optional.empty() : Optional.of(new Refusal(LIMITS[limit], answer.get(1).toLong()));
        });
  }

  @Override
  public Future<Void> charge(CallerKey key, long tokens, long costNanos, long nowMillis) {
    return CHARGE.run(redis, windows(key, "tokens", "spend"), List.of(String.valueOf(nowMillis),
        String.valueOf(tokens), String.valueOf(nowMillis + MINUTE_MILLIS), String.valueOf(costNanos),
        String.valueOf(nowMillis + Quotas.budgetWindowMillis(key.getLimits())))).mapEmpty();
  }

  @Override
  public Future<KeySpend> spend(CallerKey key, long nowMillis) {
    return redis.send(Request.cmd(Command.HMGET).arg(windows(key, "spend").get(0)).arg("total").arg("ends"))
        .map(window -> {
          if (window.get(1) == null || window.get(1).toLong() <= nowMillis) {
            return KeySpend.getDefaultInstance();
          }
          return KeySpend.newBuilder().setSpentUsd(window.get(0).toLong() / 1e9)
              .setResetTime(Timestamps.fromMillis(window.get(1).toLong())).build();
        });
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture(); // the Redis client is closed with the KeyStorage
  }
}
