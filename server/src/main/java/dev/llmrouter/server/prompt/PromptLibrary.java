package dev.llmrouter.server.prompt;

import com.google.rpc.BadRequest;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.PromptReference;
import dev.llmrouter.api.v1.RenderPromptResponse;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.config.PromptConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The prompt templates of `prompts.dir`: every `*.yaml` / `*.yml` file in the folder is one version of a template.
 * Read at start-up, where a bad file stops the router with every problem, each with its file and line; then the
 * folder is looked at every `prompts.reload_interval`, on a worker thread, and the files added, changed or removed
 * since are applied. A file that turns bad keeps its last good template (and its problems are logged). Calls read
 * the templates of the moment from any event loop without waiting: the set is swapped whole.
 */
public final class PromptLibrary {

  private static final System.Logger LOG = System.getLogger("llmrouter");

  private final Vertx vertx;
  private final PromptConfig config;
  private final Path dir;
  /** Each file's state when it was last read: what changed is read again. */
  private final Map<Path, FileState> files = new HashMap<>();
  /** The templates of the moment, by name then version. */
  private volatile Map<String, TreeMap<Integer, PromptTemplate>> templates = Map.of();
  private volatile boolean closed;
  private volatile long timer = -1;

  /** A file as last read: its size and time of change, and its last good template (empty when it never had one). */
  private record FileState(long size, long modified, Optional<PromptTemplate> template) {
  }

  /** The templates could not all be read at start-up. */
  public static final class TemplateProblems extends RuntimeException {
    private final List<String> problems;

    TemplateProblems(List<String> problems) {
      super("bad prompt templates: " + String.join("; ", problems));
      this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
      return problems;
    }
  }

  private PromptLibrary(Vertx vertx, PromptConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.dir = Path.of(config.dir());
  }

  /**
   * Reads the folder (on a worker thread) and starts looking at it for changes.
   *
   * @return fails with {@link TemplateProblems} when a file is not a good template
   */
  public static Future<PromptLibrary> open(Vertx vertx, PromptConfig config) {
    PromptLibrary library = new PromptLibrary(vertx, config);
    return vertx.executeBlocking(() -> {
      List<String> problems = library.refresh();
      if (!problems.isEmpty()) {
        throw new TemplateProblems(problems);
      }
      if (!Files.isDirectory(library.dir)) {
        // Said at INFO only for a folder the config names: the default one is absent from most set-ups.
        System.Logger.Level level = config.equals(PromptConfig.DEFAULT) ? System.Logger.Level.DEBUG
            : System.Logger.Level.INFO;
        LOG.log(level, "no prompt templates: the folder " + library.dir.toAbsolutePath()
            + " (prompts.dir) does not exist; templates put there later are picked up");
      }
      return library;
    }, false).onSuccess(PromptLibrary::scheduleRefresh);
  }

  /** Stops looking at the folder. */
  public void close() {
    closed = true;
    vertx.cancelTimer(timer);
  }

  /**
   * The request with its prompt rendered: the template's messages before the request's own, its model when the
   * request names none, and no `prompt`. A request without a prompt is returned as it is.
   *
   * @throws CallError INVALID_ARGUMENT naming each bad variable (`prompt.variables.<name>`), or the unknown template
   */
  public ChatRequest render(ChatRequest request) {
    if (!request.hasPrompt()) {
      return request;
    }
    PromptTemplate template = template(request.getPrompt());
    List<Message> messages = rendered(template, request.getPrompt());
    return request.toBuilder().clearPrompt().clearMessages().addAllMessages(messages)
        .addAllMessages(request.getMessagesList())
        .setModel(request.getModel().isEmpty() ? template.shown().getModel() : request.getModel()).build();
  }

  /** A template rendered without a call, as `PromptService.RenderPrompt` answers; failures as {@link #render}. */
  public RenderPromptResponse render(PromptReference prompt) {
    PromptTemplate template = template(prompt);
    return RenderPromptResponse.newBuilder().setModel(template.shown().getModel())
        .addAllMessages(rendered(template, prompt)).setVersion(template.version()).build();
  }

  /** Every version of every template whose name starts with {@code namePrefix}, by name then version. */
  public List<dev.llmrouter.api.v1.PromptTemplate> list(String namePrefix) {
    return new TreeMap<>(templates).entrySet().stream().filter(byName -> byName.getKey().startsWith(namePrefix))
        .flatMap(byName -> byName.getValue().values().stream()).map(PromptTemplate::shown).toList();
  }

  /** One template; {@code version} 0 means its highest. */
  public Optional<dev.llmrouter.api.v1.PromptTemplate> find(String name, int version) {
    return find(templates, name, version).map(PromptTemplate::shown);
  }

  private PromptTemplate template(PromptReference prompt) {
    Map<String, TreeMap<Integer, PromptTemplate>> now = templates;
    Optional<PromptTemplate> found = find(now, prompt.getName(), prompt.getVersion());
    if (found.isPresent()) {
      return found.get();
    }
    String field = now.containsKey(prompt.getName()) ? "prompt.version" : "prompt.name";
    String why = now.containsKey(prompt.getName())
        ? "template " + prompt.getName() + " has no version " + prompt.getVersion() + "; it has "
            + now.get(prompt.getName()).keySet()
        : prompt.getName().isEmpty() ? "is required: the name of a template of prompts.dir"
            : "no template is named " + CallError.quote(prompt.getName()) + "; there are " + new TreeMap<>(now).keySet();
    throw CallError.badRequest(BadRequest.newBuilder().addFieldViolations(
        BadRequest.FieldViolation.newBuilder().setField(field).setDescription(why)).build());
  }

  private static Optional<PromptTemplate> find(Map<String, TreeMap<Integer, PromptTemplate>> templates, String name,
      int version) {
    TreeMap<Integer, PromptTemplate> versions = templates.get(name);
    if (versions == null) {
      return Optional.empty();
    }
    return Optional.ofNullable(version == 0 ? versions.lastEntry().getValue() : versions.get(version));
  }

  private static List<Message> rendered(PromptTemplate template, PromptReference prompt) {
    BadRequest.Builder violations = BadRequest.newBuilder();
    List<Message> messages = template.render(prompt.getVariables(), "prompt", violations);
    if (violations.getFieldViolationsCount() > 0) {
      throw CallError.badRequest(violations.build());
    }
    return messages;
  }

  private void scheduleRefresh() {
    if (closed) {
      return;
    }
    timer = vertx.setTimer(config.reloadInterval().toMillis(), id -> vertx.executeBlocking(() -> {
      List<String> problems = refresh();
      if (!problems.isEmpty()) {
        LOG.log(System.Logger.Level.WARNING, "prompt templates not reloaded, their last good versions are kept: "
            + String.join("; ", problems));
      }
      return null;
    }, false).onComplete(done -> {
      if (done.failed()) {
        LOG.log(System.Logger.Level.ERROR, "cannot look at the prompt templates in " + dir, done.cause());
      }
      scheduleRefresh();
    }));
  }

  /**
   * Reads the files added or changed since the last look (blocking), forgets those removed, and swaps in the
   * templates: one look at a time (the next is scheduled when this one is done).
   *
   * @return the problems of the files read; their last good templates, if any, are kept
   */
  private List<String> refresh() throws IOException {
    List<String> problems = new ArrayList<>();
    Map<Path, FileState> seen = new HashMap<>();
    for (Path file : templateFiles()) {
      BasicFileAttributes attributes;
      try {
        attributes = Files.readAttributes(file, BasicFileAttributes.class);
      } catch (NoSuchFileException removedMeanwhile) {
        continue;
      }
      FileState before = files.get(file);
      long modified = attributes.lastModifiedTime().toMillis();
      if (before != null && before.size() == attributes.size() && before.modified() == modified) {
        seen.put(file, before);
        continue;
      }
      String name = dir.relativize(file).toString();
      TemplateFile.Read read;
      try {
        read = TemplateFile.parse(name, Files.readString(file));
      } catch (NoSuchFileException removedMeanwhile) {
        continue;
      } catch (IOException | UncheckedIOException e) {
        read = new TemplateFile.Read(Optional.empty(), List.of(name + ": cannot be read: " + e.getMessage()));
      }
      problems.addAll(read.problems());
      Optional<PromptTemplate> kept = read.template().or(() -> before == null ? Optional.empty() : before.template());
      seen.put(file, new FileState(attributes.size(), modified, kept));
    }
    Map<String, TreeMap<Integer, PromptTemplate>> byName = new HashMap<>();
    Map<String, String> fileOf = new HashMap<>();
    for (Map.Entry<Path, FileState> entry : new TreeMap<>(seen).entrySet()) {
      Optional<PromptTemplate> template = entry.getValue().template();
      if (template.isEmpty()) {
        continue;
      }
      String id = template.get().name() + " version " + template.get().version();
      String other = fileOf.putIfAbsent(id, template.get().shown().getFile());
      if (other != null) {
        problems.add(template.get().shown().getFile() + ": " + id + " is also defined by " + other
            + ": give it another name or version");
        continue;
      }
      byName.computeIfAbsent(template.get().name(), n -> new TreeMap<>()).put(template.get().version(),
          template.get());
    }
    files.clear();
    files.putAll(seen);
    templates = Map.copyOf(byName);
    return problems;
  }

  /** The template files in the folder, none when it does not exist. */
  private List<Path> templateFiles() throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.filter(file -> {
        String name = file.getFileName().toString();
        return (name.endsWith(".yaml") || name.endsWith(".yml")) && Files.isRegularFile(file);
      }).sorted(Comparator.naturalOrder()).toList();
    }
  }
}
