package dev.llmrouter.cassettes;

import java.nio.file.Path;

/** A cassette file that exists but cannot be used: unreadable, invalid JSON, a missing field, an unknown version. */
public final class CorruptCassetteException extends Exception {

  private final transient Path path;
  private final String problem;

  public CorruptCassetteException(Path path, String problem) {
    this(path, problem, null);
  }

  public CorruptCassetteException(Path path, String problem, Throwable cause) {
    super("corrupt cassette " + path + ": " + problem, cause);
    this.path = path;
    this.problem = problem;
  }

  /** The cassette file. */
  public Path path() {
    return path;
  }

  /** What is wrong with the file, without its path. */
  public String problem() {
    return problem;
  }
}
