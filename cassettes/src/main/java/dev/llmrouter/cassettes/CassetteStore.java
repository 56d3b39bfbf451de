package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Cassette files under one directory, laid out as {@code <dir>/<scope>/<first 16 hex of key>.json}, so a lookup is
 * one path and no index. Parsed cassettes are cached, bounded by their file sizes; the cache trusts itself (a file
 * changed behind its back is read again only by a new store). Returned cassettes are shared with the cache: do not modify their request.
 */
public final class CassetteStore {

  public static final String DEFAULT_SCOPE = "default";

  private static final int MAX_SCOPE_LENGTH = 200;
  private static final String SCOPE_RULE = "a scope is a relative folder path of letters, digits, '.', '_', '-' "
      + "and '/' separators, at most " + MAX_SCOPE_LENGTH + " characters";
  private static final String CASSETTE_SUFFIX = ".json";
  private static final int MAX_DIFFERENCE_LINES = 10;
  private static final int WRITE_LOCK_STRIPES = 64;

  private final Path dir;
  private final Redactor redactor;
  private final Cache<Path, Parsed> cache;
  private final Object[] writeLocks = Stream.generate(Object::new).limit(WRITE_LOCK_STRIPES).toArray();

  /** A cassette file as listed by {@link #list}; {@code scope} uses {@code /} separators on every platform. */
  public record CassetteSummary(String scope, String shortKey, Path path) {

    /** {@code provider/model  first user text} of the file (see {@link Cassette#summary}), or why it is unusable. */
    public String describe() {
      try {
        return CassetteCodec.readFile(path).summary();
      } catch (CorruptCassetteException e) {
        return "CORRUPT: " + e.problem();
      }
    }
  }

  /** The recorded cassette nearest to a missed request, and how it differs (recorded value first). */
  public record ClosestMatch(Path path, String key, List<String> differences) {
    public ClosestMatch {
      differences = List.copyOf(differences);
    }
  }

  private record Parsed(Cassette cassette, int fileBytes) {
  }

  public CassetteStore(Path dir, long cacheMaxBytes, Redactor redactor) {
    this.dir = dir;
    this.redactor = redactor;
    this.cache = Caffeine.newBuilder()
        .maximumWeight(cacheMaxBytes)
        .weigher((Path file, Parsed parsed) -> parsed.fileBytes())
        .build();
  }

  /** Returns the scope if it is a safe relative folder path, otherwise throws with what is wrong. */
  public static String validateScope(String scope) {
    if (scope == null || scope.isEmpty()) {
      throw new IllegalArgumentException("the cassette scope is empty; " + SCOPE_RULE);
    }
    if (scope.length() > MAX_SCOPE_LENGTH) {
      throw invalidScope(scope, "it has " + scope.length() + " characters");
    }
    boolean windowsDrive = scope.length() >= 2 && scope.charAt(1) == ':' && Character.isLetter(scope.charAt(0));
    if (scope.startsWith("/") || scope.startsWith("\\") || windowsDrive) {
      throw invalidScope(scope, "it is an absolute path");
    }
    // A loop, not a regular expression: this runs on every cassette lookup.
    for (int i = 0; i < scope.length(); i++) {
      char c = scope.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
          || c == '/')) {
        throw invalidScope(scope, "it holds a character other than letters, digits, '.', '_', '-' and '/'");
      }
    }
    for (String folder : scope.split("/", -1)) {
      if (folder.isEmpty() || folder.equals(".") || folder.equals("..")) {
        throw invalidScope(scope, "it has an empty, \".\" or \"..\" folder");
      }
    }
    return scope;
  }

  private static IllegalArgumentException invalidScope(String scope, String problem) {
    return new IllegalArgumentException("invalid cassette scope \"" + scope + "\": " + problem + "; " + SCOPE_RULE);
  }

  /** The cassette file for a full key in a scope. */
  public Path pathOf(String scope, String key) {
    if (!CanonicalRequest.isKey(key)) {
      throw new IllegalArgumentException("not a cassette key (64 lowercase hex characters): \"" + key + "\"");
    }
    return dir.resolve(validateScope(scope)).resolve(key.substring(0, 16) + CASSETTE_SUFFIX);
  }

  /** The cassette for a full key, from the cache when it is there; empty when there is none. */
  public Optional<Cassette> load(String scope, String key) throws CorruptCassetteException {
    // Two keys sharing their first 16 hex digits are astronomically unlikely: the other key's file is a miss.
    return loadFile(pathOf(scope, key)).filter(cassette -> cassette.key().equals(key));
  }

  /**
   * The cassette of a scope named by its full key or by its file name (the first 16 hex digits of the key); empty
   * when there is none.
   */
  public Optional<Cassette> loadByKeyOrFileName(String scope, String keyOrFileName) throws CorruptCassetteException {
    if (CanonicalRequest.isKey(keyOrFileName)) {
      return load(scope, keyOrFileName);
    }
    if (!keyOrFileName.matches("[0-9a-f]{16}")) {
      throw new IllegalArgumentException("not a cassette key (64 lowercase hex characters) nor a cassette file name "
          + "(its first 16): \"" + keyOrFileName + "\"");
    }
    return loadFile(dir.resolve(validateScope(scope)).resolve(keyOrFileName + CASSETTE_SUFFIX));
  }

  /** The cassette for a full key when it is already parsed in memory; never touches the disk. */
  public Optional<Cassette> cached(String scope, String key) {
    return Optional.ofNullable(cache.getIfPresent(pathOf(scope, key)))
        .map(Parsed::cassette)
        .filter(cassette -> cassette.key().equals(key));
  }

  /**
   * Redacts the cassette, then atomically replaces its file (one writer per key) and the cache entry. Never writes
   * through a symbolic link that leads out of the cassette folder.
   */
  public void write(String scope, Cassette cassette) throws IOException {
    write(pathOf(scope, cassette.key()), cassette);
  }

  /** Rewrites a listed cassette file in place, in the current format, as {@link #write} does. */
  public void rewrite(CassetteSummary summary, Cassette cassette) throws IOException {
    write(summary.path(), cassette);
  }

  private void write(Path file, Cassette cassette) throws IOException {
    Cassette redacted = redactor.redact(cassette);
    byte[] bytes = CassetteCodec.write(redacted);
    synchronized (writeLocks[Math.floorMod(file.hashCode(), WRITE_LOCK_STRIPES)]) {
      Files.createDirectories(file.getParent());
      Path realFolder = file.getParent().toRealPath();
      if (!realFolder.startsWith(dir.toRealPath())) {
        throw new IOException("refusing to write " + file + ": its folder is a link to " + realFolder
            + ", outside the cassette folder " + dir);
      }
      // The temp file sits next to the target, so the move is a rename; ".tmp" keeps it out of list().
      Path temp = file.resolveSibling(file.getFileName() + "." + UUID.randomUUID() + ".tmp");
      try {
        Files.write(temp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(temp);
      }
      cache.put(file, new Parsed(redacted, bytes.length));
    }
  }

  /** Every cassette file below the directory, or below one scope, sorted by scope then short key. */
  public List<CassetteSummary> list(String scopeOrNull) {
    Path root = scopeOrNull == null ? dir : dir.resolve(validateScope(scopeOrNull));
    return cassetteFiles(root, Integer.MAX_VALUE).stream()
        // A file directly in the directory belongs to no scope, so it is no cassette.
        .filter(file -> !file.getParent().equals(dir))
        .map(file -> new CassetteSummary(scopeOf(file), shortKeyOf(file), file))
        .sorted(Comparator.comparing(CassetteSummary::scope).thenComparing(CassetteSummary::shortKey))
        .toList();
  }

  /**
   * The cassette of the scope's own folder whose keyed request (its normalized form, when match rules made one)
   * differs from the given one in the fewest JSON leaves; empty when the folder holds no readable cassette. Corrupt
   * files are skipped.
   *
   * @param keyedRequest the form of the missed request its key was computed on ({@link CanonicalRequest#normalizedJson})
   */
  public Optional<ClosestMatch> closest(String scope, ObjectNode keyedRequest) {
    // Recorded requests are redacted: compare like with like, and keep secrets out of the differences.
    ObjectNode requested = redactor.redact(keyedRequest);
    ClosestMatch closest = null;
    int fewestDifferences = Integer.MAX_VALUE;
    for (Path file : cassetteFiles(dir.resolve(validateScope(scope)), 1)) {
      Optional<Cassette> recorded;
      try {
        recorded = loadFile(file);
      } catch (CorruptCassetteException e) {
        continue;
      }
      if (recorded.isEmpty()) {
        continue;
      }
      List<String> differences = JsonDiff.differences(recorded.get().keyedRequest(), requested);
      if (differences.size() < fewestDifferences) {
        fewestDifferences = differences.size();
        closest = new ClosestMatch(file, recorded.get().key(), atMostTenLines(differences));
      }
    }
    return Optional.ofNullable(closest);
  }

  private Optional<Cassette> loadFile(Path file) throws CorruptCassetteException {
    Parsed cached = cache.getIfPresent(file);
    if (cached != null) {
      return Optional.of(cached.cassette());
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new CorruptCassetteException(file, "cannot be read: " + e, e);
    }
    Parsed parsed = new Parsed(CassetteCodec.read(bytes, file), bytes.length);
    // A write may have cached a newer version while this one was read: that one wins.
    Parsed current = cache.asMap().putIfAbsent(file, parsed);
    return Optional.of((current == null ? parsed : current).cassette());
  }

  /** Cassette files below a folder, at most maxDepth levels down, in name order; none if it does not exist. */
  private static List<Path> cassetteFiles(Path folder, int maxDepth) {
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (Stream<Path> files = Files.find(folder, maxDepth, (file, attributes) ->
        attributes.isRegularFile() && file.getFileName().toString().endsWith(CASSETTE_SUFFIX))) {
      return files.sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list cassettes in " + folder, e);
    }
  }

  private String scopeOf(Path file) {
    return dir.relativize(file.getParent()).toString().replace(File.separatorChar, '/');
  }

  private static String shortKeyOf(Path file) {
    String name = file.getFileName().toString();
    return name.substring(0, name.length() - CASSETTE_SUFFIX.length());
  }

  private static List<String> atMostTenLines(List<String> differences) {
    if (differences.size() <= MAX_DIFFERENCE_LINES) {
      return differences;
    }
    List<String> lines = new ArrayList<>(differences.subList(0, MAX_DIFFERENCE_LINES - 1));
    lines.add("... and " + (differences.size() - MAX_DIFFERENCE_LINES + 1) + " more differences");
    return lines;
  }
}
