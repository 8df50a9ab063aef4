package ai.chunkwise.pipeline.format;

import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/** Names what differs between two Arrow schemas: columns (missing, extra, other type or order) and metadata keys. */
public final class SchemaDifference {
    private SchemaDifference() {
    }

    /** A short description of every difference, e.g. "column 'loss_mask': FixedSizeList<Int(16)> instead of ...". */
    public static String describe(Schema expected, Schema actual) {
        List<String> d = new ArrayList<>();
        Map<String, Field> want = byName(expected);
        Map<String, Field> have = byName(actual);
        for (Map.Entry<String, Field> e : want.entrySet()) {
            Field a = have.get(e.getKey());
            if (a == null) {
                d.add("column '" + e.getKey() + "' is missing");
            } else if (!a.equals(e.getValue())) {
                d.add("column '" + e.getKey() + "' is " + render(a) + ", expected " + render(e.getValue()));
            }
        }
        for (String name : have.keySet()) {
            if (!want.containsKey(name)) {
                d.add("extra column '" + name + "'");
            }
        }
        if (d.isEmpty() && !List.copyOf(want.keySet()).equals(List.copyOf(have.keySet()))) {
            d.add("columns in the order " + have.keySet() + ", expected " + want.keySet());
        }
        TreeSet<String> keys = new TreeSet<>(expected.getCustomMetadata().keySet());
        keys.addAll(actual.getCustomMetadata().keySet());
        for (String k : keys) {
            String a = actual.getCustomMetadata().get(k);
            String b = expected.getCustomMetadata().get(k);
            if (!Objects.equals(a, b)) {
                d.add("metadata '" + k + "' is " + (a == null ? "absent" : "'" + a + "'") + ", expected "
                        + (b == null ? "absent" : "'" + b + "'"));
            }
        }
        return d.isEmpty() ? "schemas differ in field details" : String.join("; ", d);
    }

    private static Map<String, Field> byName(Schema s) {
        Map<String, Field> m = new LinkedHashMap<>();
        s.getFields().forEach(f -> m.put(f.getName(), f));
        return m;
    }

    private static String render(Field f) {
        StringBuilder b = new StringBuilder(f.getType().toString());
        if (!f.getChildren().isEmpty()) {
            b.append('<');
            for (int i = 0; i < f.getChildren().size(); i++) {
                b.append(i == 0 ? "" : ", ").append(render(f.getChildren().get(i)));
            }
            b.append('>');
        }
        if (!f.isNullable()) {
            b.append(" not null");
        }
        return b.toString();
    }
}
