package cofi.neo4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Starts a Neo4j 5.26 Community DBMS with its Bolt connector on 127.0.0.1, authentication on,
 * the password of the user neo4j from NEO4J_PASSWORD, data under the directory given as the
 * first argument.  Runs until it is sent SIGTERM (or SIGINT), then shuts the DBMS down cleanly.
 *
 * <p>Environment: NEO4J_PASSWORD (required, 8 characters at least), NEO4J_BOLT_PORT (default
 * 7687), NEO4J_PAGECACHE (default 512m), NEO4J_TX_MEMORY (the memory all transactions may use
 * together, default: Neo4j's, 70% of the heap).  The heap is the JVM's (-Xmx, set by the
 * Makefile from NEO4J_HEAP).
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            fail("usage: Launcher DATA_DIRECTORY");
        }
        String password = System.getenv("NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            fail("set NEO4J_PASSWORD (8 characters at least) to start the local Neo4j");
        }
        String port = env("NEO4J_BOLT_PORT", "7687");
        Path home = Path.of(args[0]).toAbsolutePath();
        Files.createDirectories(home);

        Map<String, String> config = new LinkedHashMap<>();
        config.put("dbms.security.auth_enabled", "true");
        config.put("server.bolt.enabled", "true");
        config.put("server.bolt.listen_address", "127.0.0.1:" + port);
        config.put("server.bolt.advertised_address", "127.0.0.1:" + port);
        config.put("server.bolt.tls_level", "DISABLED");
        config.put("server.memory.pagecache.size", env("NEO4J_PAGECACHE", "512m"));
        String txMemory = System.getenv("NEO4J_TX_MEMORY");
        if (txMemory != null && !txMemory.isEmpty()) {
            config.put("dbms.memory.transaction.total.max", txMemory);
        }
        config.put("db.logs.query.enabled", "OFF");

        StringBuilder conf = new StringBuilder("# written by cofi's Launcher at each start\n");
        config.forEach((key, value) -> conf.append(key).append('=').append(value).append('\n'));
        Path confFile = home.resolve("neo4j.conf");
        Files.writeString(confFile, conf.toString(), StandardCharsets.UTF_8);

        DatabaseManagementService dbms =
                new DatabaseManagementServiceBuilder(home).loadPropertiesFromFile(confFile).build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));

        GraphDatabaseService system = dbms.database("system");
        system.executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                Map.of("password", password));
        System.out.println("cofi-neo4j: Neo4j " + org.neo4j.kernel.internal.Version.getNeo4jVersion()
                + " listening on bolt://127.0.0.1:" + port);
        System.out.flush();
        Thread.currentThread().join();
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    private static void fail(String message) {
        System.err.println("cofi-neo4j: " + message);
        System.exit(2);
    }
}
