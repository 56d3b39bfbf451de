package dev.llmrouter.server.ingress;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.Image;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Values every dialect writes or reads the same way: its own form of the response id, times, data URLs. */
public final class DialectValues {

  private static final Pattern DATA_URL = Pattern.compile("data:([\\w.+-]+/[\\w.+-]+)?(;[^,;]*)*;base64,(.*)",
      Pattern.DOTALL);

  private DialectValues() {
  }

  /**
   * The response id in a dialect's own form: {@code prefix} followed by what follows the first `-` or `_` of the
   * router's id (`chatcmpl-3e9b…` becomes `msg_3e9b…`, or `3e9b…` with an empty prefix, as Gemini's ids have
   * none), so that it stays derived from the cassette key.
   */
  public static String responseId(String id, String prefix) {
    if (!prefix.isEmpty() && id.startsWith(prefix)) {
      return id;
    }
    int cut = indexOfSeparator(id);
    return prefix + (cut < 0 ? id : id.substring(cut + 1));
  }

  private static int indexOfSeparator(String id) {
    int dash = id.indexOf('-');
    int underscore = id.indexOf('_');
    return dash < 0 ? underscore : underscore < 0 ? dash : Math.min(dash, underscore);
  }

  /** Seconds since the epoch, as `created` fields say it. */
  public static long epochSeconds(Timestamp created) {
    return created.getSeconds();
  }

  /** An image from a URL: a `data:` URL's bytes and type, or the URL as it is. */
  public static Image image(String url, String field) {
    if (!url.startsWith("data:")) {
      if (!url.startsWith("https://") && !url.startsWith("http://")) {
        throw JsonFields.invalid(field, "must be an http(s) URL or a base64 data: URL, not " + quoteStart(url));
      }
      return Image.newBuilder().setUrl(url).build();
    }
    Matcher data = DATA_URL.matcher(url);
    if (!data.matches() || data.group(1) == null) {
      throw JsonFields.invalid(field, "a data: URL must be data:<mime type>;base64,<data>, not " + quoteStart(url));
    }
    return Image.newBuilder().setMimeType(data.group(1)).setData(base64(data.group(3), field)).build();
  }

  /** Base64 bytes, standard or URL-safe. */
  public static ByteString base64(String text, String field) {
    String compact = text.replaceAll("\\s", "");
    try {
      byte[] bytes = (compact.indexOf('-') >= 0 || compact.indexOf('_') >= 0 ? Base64.getUrlDecoder()
          : Base64.getDecoder()).decode(compact);
      if (bytes.length == 0) {
        throw JsonFields.invalid(field, "holds no data");
      }
      return ByteString.copyFrom(bytes);
    } catch (IllegalArgumentException e) {
      throw JsonFields.invalid(field, "is not valid base64: " + e.getMessage());
    }
  }

  private static String quoteStart(String value) {
    return "'" + (value.length() <= 32 ? value : value.substring(0, 32) + "...") + "'";
  }
}
