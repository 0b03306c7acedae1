package ops

import (
	"context"
	"fmt"
	"strings"

	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/migrations"
)

// The syncer's schema and the publication need privileges the recommended
// role (REPLICATION, USAGE and SELECT) does not have: CREATE on the
// database, ownership of the tables. check reports each as an error with
// the SQL an admin runs once; a warning means setup (or run) does it
// itself, and setup does exactly what the warnings say (issue 15).

// checkSchema reports whether the syncer's schema is in place and whether
// the role can create, migrate and use it.
func (t *target) checkSchema(ctx context.Context) ([]Finding, error) {
	role, err := replication.ReadRole(ctx, t.conn)
	if err != nil {
		return nil, err
	}
	schema := t.cfg.Source.Schema
	acc, err := replication.ReadSchemaAccess(ctx, t.conn, schema)
	if err != nil {
		return nil, err
	}
	st, err := migrations.Inspect(ctx, t.conn, schema)
	if err != nil {
		return nil, err
	}
	if f := schemaFinding(role, schema, acc, st); f != nil {
		return []Finding{*f}, nil
	}
	return nil, nil
}

// schemaFinding decides what the schema needs; nil when nothing.
func schemaFinding(role replication.Role, schema string, acc replication.SchemaAccess, st migrations.State) *Finding {
	r := role.Ident()
	switch {
	case !acc.Exists && (role.Superuser || role.CreateOnDatabase):
		return &Finding{Severity: SevWarn, What: fmt.Sprintf("the syncer's schema %q does not exist yet", schema),
			Fix: "cdc setup (or the first cdc run) creates it"}
	case !acc.Exists:
		return &Finding{Severity: SevError,
			What: fmt.Sprintf("the syncer's schema %q does not exist and role %s lacks CREATE on database %s to create it", schema, r, role.Database),
			Fix:  fmt.Sprintf("an admin creates it, owned by the syncer's role (or runs GRANT CREATE ON DATABASE %s TO %s;), then cdc setup creates its tables", role.Database, r),
			SQL:  fmt.Sprintf("CREATE SCHEMA %s AUTHORIZATION %s;", schema, r)}
	case !acc.Usage || len(acc.Lacking) > 0:
		what := fmt.Sprintf("role %s has no USAGE on the syncer's schema %q", r, schema)
		if acc.Usage {
			what = fmt.Sprintf("role %s lacks rights on the syncer's tables in %q: %s", r, schema, strings.Join(acc.Lacking, ", "))
		}
		return &Finding{Severity: SevError, What: what,
			Fix: "cdc run reads and writes its own tables; an admin grants the rights (or makes the role the schema's owner)",
			SQL: schemaRightsSQL(schema, r)}
	case !st.Current() && !acc.Create:
		return &Finding{Severity: SevError,
			What: fmt.Sprintf("the syncer's schema %q is at version %d of %d and role %s lacks CREATE on it to apply the rest", schema, st.Version, st.Latest, r),
			Fix:  "an admin grants CREATE on the schema (or makes the role its owner), then cdc setup applies the migrations",
			SQL:  fmt.Sprintf("GRANT CREATE ON SCHEMA %s TO %s;", schema, r)}
	case !st.Current():
		return &Finding{Severity: SevWarn, What: fmt.Sprintf("the syncer's schema %q is at version %d of %d", schema, st.Version, st.Latest),
			Fix: "cdc setup (or the next cdc run) applies the migrations"}
	}
	return nil
}

// schemaRightsSQL grants what `cdc run` needs on its own schema: USAGE,
// and SELECT, INSERT, UPDATE, DELETE on its tables and USAGE on their
// sequences. The README lists the same.
func schemaRightsSQL(schema, role string) string {
	return fmt.Sprintf("GRANT USAGE ON SCHEMA %[1]s TO %[2]s; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %[1]s TO %[2]s; "+
		"GRANT USAGE ON ALL SEQUENCES IN SCHEMA %[1]s TO %[2]s;", schema, role)
}

// checkPublication reports whether the publication covers the rules'
// tables and, when not, whether the role can create or extend it; and
// whether it publishes partitioned tables through their root.
func (t *target) checkPublication(ctx context.Context) ([]Finding, error) {
	pub, err := replication.ReadPublication(ctx, t.conn, t.cfg.Source.Publication)
	if err != nil {
		return nil, err
	}
	fs, err := t.checkPublicationTables(ctx, pub)
	if err != nil {
		return nil, err
	}
	via, err := replication.ViaRootSQL(ctx, t.conn, t.cfg.Source.Config, pub)
	if err != nil || via == "" {
		return fs, err
	}
	f := Finding{Severity: SevWarn,
		What: fmt.Sprintf("publication %q lacks publish_via_partition_root while a rule's table is partitioned: "+
			"its partitions' changes arrive under their own names", t.cfg.Source.Publication),
		Fix: "cdc setup (or the next cdc run) sets it", SQL: via + ";"}
	if !pub.Owned {
		f.Severity, f.Fix = SevError, "the publication's owner runs the SQL (cdc run refuses to start until then)"
	}
	return append(fs, f), nil
}

// checkPublicationTables reports whether the publication covers the rules'
// tables and, when not, whether the role can create or extend it.
func (t *target) checkPublicationTables(ctx context.Context, pub replication.Publication) ([]Finding, error) {
	name, tables := t.cfg.Source.Publication, t.cfg.Compiled.Tables()
	var err error
	if pub.Exists && pub.AllTables {
		return []Finding{{Severity: SevOK, What: fmt.Sprintf("publication %q publishes all tables", name)}}, nil
	}
	missing := tables
	if pub.Exists {
		if missing, err = replication.NotPublished(ctx, t.conn, name, tables); err != nil {
			return nil, err
		}
		if len(missing) == 0 {
			return []Finding{{Severity: SevOK, What: fmt.Sprintf("publication %q covers %s", name, strings.Join(tables, ", "))}}, nil
		}
	}
	role, blockers, err := t.publicationBlockers(ctx, pub, missing)
	if err != nil {
		return nil, err
	}
	f, err := t.publicationFinding(ctx, pub, missing)
	if err != nil {
		return nil, err
	}
	if len(blockers) > 0 {
		f.Severity = SevError
		f.What += fmt.Sprintf("; role %s cannot do it: %s", role.Ident(), strings.Join(blockers, ", "))
		f.Fix = "an admin (the tables' owner or a superuser) runs the SQL once; from then on cdc needs no ownership"
	}
	return []Finding{f}, nil
}

// publicationFinding is the finding for a publication that is missing or
// lacks tables, as setup would fix it.
func (t *target) publicationFinding(ctx context.Context, pub replication.Publication, missing []string) (Finding, error) {
	name := t.cfg.Source.Publication
	if pub.Exists {
		return Finding{Severity: SevWarn, What: fmt.Sprintf("publication %q lacks tables %s", name, strings.Join(missing, ", ")),
			Fix: "cdc setup (or the first cdc run) adds them", SQL: replication.AddTablesSQL(name, missing)}, nil
	}
	parted, err := replication.Partitioned(ctx, t.conn, missing)
	if err != nil {
		return Finding{}, err
	}
	return Finding{Severity: SevWarn, What: fmt.Sprintf("publication %q does not exist", name),
		Fix: "cdc setup (or the first cdc run) creates it",
		SQL: fmt.Sprintf("CREATE PUBLICATION %s FOR TABLE %s%s;", name, replication.ReadableTables(missing), replication.PublicationOptions(parted))}, nil
}

// publicationBlockers says why the role cannot create the publication or
// add the missing tables to it; none for a superuser.
func (t *target) publicationBlockers(ctx context.Context, pub replication.Publication, missing []string) (replication.Role, []string, error) {
	role, err := replication.ReadRole(ctx, t.conn)
	if err != nil || role.Superuser {
		return role, nil, err
	}
	var why []string
	if !pub.Exists && !role.CreateOnDatabase {
		why = append(why, fmt.Sprintf("no CREATE on database %s", role.Database))
	}
	if pub.Exists && !pub.Owned {
		why = append(why, fmt.Sprintf("it does not own publication %s", t.cfg.Source.Publication))
	}
	notOwned, err := replication.NotOwned(ctx, t.conn, missing)
	if err != nil {
		return role, nil, err
	}
	if len(notOwned) > 0 {
		why = append(why, "it does not own "+strings.Join(notOwned, ", "))
	}
	return role, why, nil
}
