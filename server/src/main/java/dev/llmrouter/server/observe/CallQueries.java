package dev.llmrouter.server.observe;

import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallNode;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.GetTraceResponse;
import dev.llmrouter.api.v1.GetUsageResponse;
import dev.llmrouter.api.v1.ListCallsResponse;
import dev.llmrouter.api.v1.UsageBucket;
import dev.llmrouter.api.v1.UsageGrouping;
import dev.llmrouter.api.v1.UsageRow;
import dev.llmrouter.api.v1.UsageTotals;
import dev.llmrouter.server.config.PostgresUrl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Reads the call log: the queries behind `ObservabilityService` and `calls list|trace|usage`, over JDBC, the same SQL
 * for SQLite and PostgreSQL. Each query opens its own connection (SQLite in WAL mode lets it read while the writer
 * writes; PostgreSQL serves many readers) and blocks: run it off the event loop.
 */
public final class CallQueries {

  public static final int DEFAULT_PAGE_SIZE = 50;
  public static final int MAX_PAGE_SIZE = 1000;
  private static final String BUCKET_OF_START = "(calls.start_ms / ";

  /** Opens a connection to the call log for one query. */
  interface Connections {
    Connection open() throws SQLException;
  }

  private final String name;
  private final Connections connections;

  /** The queries over the SQLite call log at {@code file}. */
  public CallQueries(Path file) {
    this(file.toString(), () -> {
      // Opening a missing file would create an empty one.
      if (!Files.exists(file)) {
        throw new NoSuchElementException("there is no call log at " + file + " yet: it is created when the router "
            + "starts with the call log on");
      }
      return SqliteCallStore.connect(file);
    });
  }

  CallQueries(String name, Connections connections) {
    this.name = name;
    this.connections = connections;
  }

  /** The queries over the call log in a PostgreSQL database (`call_log.postgres_url`), as the routers write it. */
  public static CallQueries postgres(PostgresUrl url) {
    return new CallQueries(url.toString(), PostgresClients.jdbc(url)::getConnection);
  }

  /** Where the calls are read from: the file, or the database's URL without its password. */
  @Override
  public String toString() {
    return name;
  }

  /**
   * One page of calls, newest first.
   *
   * @throws IllegalArgumentException when the page size or token is invalid
   */
  public ListCallsResponse list(CallFilter filter, int pageSize, String pageToken) throws SQLException {
    if (pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("page_size must be from 0 (the default, " + DEFAULT_PAGE_SIZE + ") to "
          + MAX_PAGE_SIZE + ", not " + pageSize);
    }
    int size = pageSize == 0 ? DEFAULT_PAGE_SIZE : pageSize;
    Where where = Where.of(filter);
    if (!pageToken.isEmpty()) {
      PageToken after = PageToken.parse(pageToken);
      where.add("(start_ms < ? OR (start_ms = ? AND id < ?))", after.startMillis(), after.startMillis(), after.id());
    }
    List<CallRecord> calls = select("SELECT * FROM calls" + where.sql() + " ORDER BY start_ms DESC, id DESC LIMIT ?",
        where.withParameter(size + 1));
    ListCallsResponse.Builder page = ListCallsResponse.newBuilder().addAllCalls(calls.subList(0,
        Math.min(size, calls.size())));
    if (calls.size() > size) {
      CallRecord last = calls.get(size - 1);
      page.setNextPageToken(new PageToken(Timestamps.toMillis(last.getStartTime()), last.getId()).encode());
    }
    return page.build();
  }

  /**
   * One call by its id.
   *
   * @throws NoSuchElementException when the call log has no such call
   */
  public CallRecord call(String callId) throws SQLException {
    if (callId.isEmpty()) {
      throw new IllegalArgumentException("call_id is required: the id of a call, as ListCalls or x-call-id gives it");
    }
    return select("SELECT * FROM calls WHERE id = ?", List.of(callId)).stream().findFirst()
        .orElseThrow(() -> new NoSuchElementException("the call log has no call with id " + callId));
  }

  /**
   * Every call of a trace, as a tree by parent call id; a call whose parent is not in the trace is a root.
   *
   * @throws NoSuchElementException when the trace has no call
   */
  public GetTraceResponse trace(String traceId) throws SQLException {
    if (traceId.isEmpty()) {
      throw new IllegalArgumentException("trace_id is required");
    }
    List<CallRecord> calls = select("SELECT * FROM calls WHERE trace_id = ? ORDER BY start_ms, id",
        List.of(traceId));
    if (calls.isEmpty()) {
      throw new NoSuchElementException("the call log has no call with trace id " + traceId);
    }
    Map<String, List<CallRecord>> children = new LinkedHashMap<>();
    Map<String, CallRecord> byId = new LinkedHashMap<>();
    calls.forEach(call -> byId.put(call.getId(), call));
    List<CallRecord> roots = new ArrayList<>();
    for (CallRecord call : calls) {
      if (!call.getParentCallId().isEmpty() && byId.containsKey(call.getParentCallId())
          && !call.getParentCallId().equals(call.getId())) {
        children.computeIfAbsent(call.getParentCallId(), id -> new ArrayList<>()).add(call);
      } else {
        roots.add(call);
      }
    }
    GetTraceResponse.Builder trace = GetTraceResponse.newBuilder().setTraceId(traceId);
    roots.forEach(root -> trace.addRoots(node(root, children)));
    return trace.build();
  }

  private static CallNode node(CallRecord call, Map<String, List<CallRecord>> children) {
    CallNode.Builder node = CallNode.newBuilder().setCall(call);
    children.getOrDefault(call.getId(), List.of()).forEach(child -> node.addChildren(node(child, children)));
    return node.build();
  }

  /** Totals over the calls matching {@code filter} (a time range, for the RPC and the command line), grouped. */
  public GetUsageResponse usage(CallFilter filter, List<UsageGrouping> groupBy) throws SQLException {
    return usage(filter, groupBy, UsageBucket.USAGE_BUCKET_UNSPECIFIED);
  }

  /** As above, with one row per hour or day (UTC) too, unless {@code bucket} is unspecified. */
  public GetUsageResponse usage(CallFilter filter, List<UsageGrouping> groupBy, UsageBucket bucket)
      throws SQLException {
    Where where = Where.of(filter);
    List<String> columns = new ArrayList<>();
    switch (bucket) {
      case USAGE_BUCKET_UNSPECIFIED -> { }
      // The same SQL on SQLite and PostgreSQL, in UTC as start_ms is.
      case USAGE_BUCKET_HOUR -> columns.add(bucketStart(3_600_000));
      case USAGE_BUCKET_DAY -> columns.add(bucketStart(86_400_000));
      default -> throw new IllegalArgumentException("bucket is not a known UsageBucket: " + bucket);
    }
    for (UsageGrouping grouping : groupBy) {
      List<String> grouped = switch (grouping) {
        case USAGE_GROUPING_PROVIDER -> List.of("calls.provider");
        case USAGE_GROUPING_MODEL -> List.of("calls.model");
        case USAGE_GROUPING_UPSTREAM_MODEL -> List.of("calls.upstream_model");
        case USAGE_GROUPING_TAG -> List.of("call_tags.tag");
        case USAGE_GROUPING_KEY -> List.of("calls.key_id", "calls.key_name");
        default -> throw new IllegalArgumentException("group_by holds an unknown grouping: " + grouping);
      };
      grouped.stream().filter(column -> !columns.contains(column)).forEach(columns::add);
    }
    GetUsageResponse.Builder usage = GetUsageResponse.newBuilder();
    try (Connection connection = connections.open()) {
      usage.setTotal(totals(connection, List.of(), where).get(0).getTotals());
      if (!columns.isEmpty()) {
        usage.addAllRows(totals(connection, columns, where));
      }
    }
    return usage.build();
  }

  /** The column of the start of a call's time bucket, in milliseconds, by integer division. */
  private static String bucketStart(long bucketMillis) {
    return BUCKET_OF_START + bucketMillis + ") * " + bucketMillis;
  }

  private static List<UsageRow> totals(Connection connection, List<String> columns, Where where)
      throws SQLException {
    String groups = String.join(", ", columns);
    String sql = "SELECT " + (columns.isEmpty() ? "" : groups + ", ")
        + "COUNT(*), COUNT(CASE WHEN status <> 'OK' THEN 1 END), SUM(input_tokens), SUM(output_tokens), "
        + "SUM(cached_input_tokens), SUM(reasoning_tokens), COALESCE(SUM(cost_usd), 0), "
        + "COUNT(CASE WHEN cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL) THEN 1 END), "
        + "COUNT(CASE WHEN cassette_outcome = 'hit' THEN 1 END), "
        + "COALESCE(SUM(CASE WHEN cassette_outcome = 'hit' THEN cost_usd END), 0) FROM calls"
        + (columns.contains("call_tags.tag") ? " LEFT JOIN call_tags ON call_tags.call_id = calls.id" : "")
        + where.sql() + (columns.isEmpty() ? "" : " GROUP BY " + groups + " ORDER BY "
        + (columns.get(0).startsWith(BUCKET_OF_START) ? "1, " : "") + (columns.size() + 7)
        + " DESC, " + String.join(" NULLS FIRST, ", columns) + " NULLS FIRST");
    List<UsageRow> rows = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      bind(statement, where.parameters);
      try (ResultSet row = statement.executeQuery()) {
        while (row.next()) {
          UsageRow.Builder group = UsageRow.newBuilder();
          int i = 0;
          for (String column : columns) {
            if (column.startsWith(BUCKET_OF_START)) {
              group.setBucketStartTime(Timestamps.fromMillis(row.getLong(++i)));
              continue;
            }
            String value = row.getString(++i);
            String text = value == null ? "" : value;
            switch (column) {
              case "calls.provider" -> group.setProvider(text);
              case "calls.model" -> group.setModel(text);
              case "calls.upstream_model" -> group.setUpstreamModel(text);
              case "calls.key_id" -> group.setKeyId(text);
              case "calls.key_name" -> group.setKeyName(text);
              default -> group.setTag(text);
            }
          }
          group.setTotals(UsageTotals.newBuilder().setCalls(row.getLong(++i)).setFailedCalls(row.getLong(++i))
              .setInputTokens(row.getLong(++i)).setOutputTokens(row.getLong(++i))
              .setCachedInputTokens(row.getLong(++i)).setReasoningTokens(row.getLong(++i))
              .setCostUsd(row.getDouble(++i)).setUnpricedCalls(row.getLong(++i)).setReplayedCalls(row.getLong(++i))
              .setReplayedCostUsd(row.getDouble(++i)));
          rows.add(group.build());
        }
      }
    }
    return rows;
  }

  private List<CallRecord> select(String sql, List<Object> parameters) throws SQLException {
    List<CallRecord> calls = new ArrayList<>();
    try (Connection connection = connections.open(); PreparedStatement statement = connection.prepareStatement(sql)) {
      bind(statement, parameters);
      try (ResultSet row = statement.executeQuery()) {
        while (row.next()) {
          calls.add(CallTable.read(row));
        }
      }
    }
    return calls;
  }

  private static void bind(PreparedStatement statement, List<Object> parameters) throws SQLException {
    for (int i = 0; i < parameters.size(); i++) {
      statement.setObject(i + 1, parameters.get(i));
    }
  }

  /** A WHERE clause and its parameters, built from a filter. */
  private static final class Where {
    private final List<String> conditions = new ArrayList<>();
    private final List<Object> parameters = new ArrayList<>();

    static Where of(CallFilter filter) {
      Where where = new Where();
      if (!filter.getTraceId().isEmpty()) {
        where.add("trace_id = ?", filter.getTraceId());
      }
      if (!filter.getSessionId().isEmpty()) {
        where.add("session_id = ?", filter.getSessionId());
      }
      if (!filter.getUserId().isEmpty()) {
        where.add("user_id = ?", filter.getUserId());
      }
      if (!filter.getModel().isEmpty()) {
        where.add("(model = ? OR upstream_model = ?)", filter.getModel(), filter.getModel());
      }
      if (!filter.getProvider().isEmpty()) {
        where.add("(provider = ? OR provider_type = ?)", filter.getProvider(), filter.getProvider());
      }
      if (!filter.getStatus().isEmpty()) {
        where.add("status = ?", filter.getStatus());
      }
      if (!filter.getKeyId().isEmpty()) {
        where.add("key_id = ?", filter.getKeyId());
      }
      if (!filter.getTag().isEmpty()) {
        where.add("EXISTS (SELECT 1 FROM call_tags t WHERE t.call_id = calls.id AND t.tag = ?)", filter.getTag());
      }
      if (filter.hasStartTime()) {
        where.add("start_ms >= ?", Timestamps.toMillis(filter.getStartTime()));
      }
      if (filter.hasEndTime()) {
        where.add("start_ms < ?", Timestamps.toMillis(filter.getEndTime()));
      }
      return where;
    }

    void add(String condition, Object... values) {
      conditions.add(condition);
      parameters.addAll(List.of(values));
    }

    String sql() {
      return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
    }

    List<Object> withParameter(Object extra) {
      List<Object> all = new ArrayList<>(parameters);
      all.add(extra);
      return all;
    }
  }

  /** Where the next page starts: after this call in newest-first order. Opaque to callers. */
  private record PageToken(long startMillis, String id) {
    String encode() {
      return Base64.getUrlEncoder().withoutPadding().encodeToString((startMillis + ":" + id)
          .getBytes(StandardCharsets.UTF_8));
    }

    static PageToken parse(String token) {
      try {
        String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        int colon = text.indexOf(':');
        return new PageToken(Long.parseLong(text.substring(0, colon)), text.substring(colon + 1));
      } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
        throw new IllegalArgumentException("page_token is not one this router returned: pass next_page_token of "
            + "the previous page unchanged");
      }
    }
  }
}
