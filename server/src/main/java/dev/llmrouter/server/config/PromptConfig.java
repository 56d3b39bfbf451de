package dev.llmrouter.server.config;

import java.time.Duration;

/**
 * The `prompts:` section: where the prompt templates are, and how often their files are looked at for changes.
 *
 * @param dir the folder of template files (`*.yaml`, `*.yml`), relative to the working directory; a folder that does
 *     not exist holds no templates until it appears
 * @param reloadInterval how often the folder is looked at for added, changed and removed files
 */
public record PromptConfig(String dir, Duration reloadInterval) {

  public static final PromptConfig DEFAULT = new PromptConfig("prompts", Duration.ofSeconds(2));
}
