package dev.llmrouter.server.auth;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A caller key's own text: {@code llmr_} and 43 base62 characters (256 random bits), made once, shown once, and kept
 * only as its SHA-256 hash.
 */
final class KeySecret {

  /** What a key starts with, so that it says what it is (and secret scanners can find one that leaked). */
  static final String PREFIX = "llmr_";

  private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final int RANDOM_BYTES = 32;
  /** Base62 digits that hold 256 bits: 62^43 > 2^256. */
  private static final int DIGITS = 43;
  private static final SecureRandom RANDOM = new SecureRandom();
  /** One digest per thread: looking one up costs as much as hashing a key, on every call. */
  private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  });

  private KeySecret() {
  }

  /** A new key. */
  static String generate() {
    byte[] bytes = new byte[RANDOM_BYTES];
    RANDOM.nextBytes(bytes);
    BigInteger value = new BigInteger(1, bytes);
    BigInteger base = BigInteger.valueOf(BASE62.length());
    char[] digits = new char[DIGITS];
    for (int i = DIGITS - 1; i >= 0; i--) {
      BigInteger[] division = value.divideAndRemainder(base);
      digits[i] = BASE62.charAt(division[1].intValue());
      value = division[0];
    }
    return PREFIX + new String(digits);
  }

  /** Whether a presented value has a key's shape: anything else is refused before it is looked up. */
  static boolean wellFormed(String presented) {
    if (presented.length() != PREFIX.length() + DIGITS || !presented.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < presented.length(); i++) {
      char c = presented.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
        return false;
      }
    }
    return true;
  }

  /**
   * The hash a key is kept and looked up by. SHA-256 without salt or stretching is enough here: a key holds 256
   * random bits, so no dictionary or brute force applies, and a lookup must cost microseconds on every call.
   */
  static byte[] hash(String key) {
    return SHA_256.get().digest(key.getBytes(StandardCharsets.UTF_8));
  }

  /** A hash as stores keep it: 64 lowercase hex digits. */
  static String hex(byte[] hash) {
    return HexFormat.of().formatHex(hash);
  }

  /** A new key id: `key_` and 12 random hex digits. Ids are not secret. */
  static String newId() {
    byte[] bytes = new byte[6];
    RANDOM.nextBytes(bytes);
    return "key_" + HexFormat.of().formatHex(bytes);
  }
}
