"""The world: the entities behind the ids of the events, in their own SQLite file, and their state.

Built once from the tenant (master data and the assortment), then changed by every event
(``changes.py``, in one transaction just before the events are recorded), cleared with the
delivery log and pruned with it (an entity no retained event names goes). Reads go through
the Query API (``query.py``); this module also answers the few direct questions the control
API asks (an order's state, a job's status, the rows per entity set).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from typing import Callable, Iterable

from mock_norce.catalogue.tenant import Tenant
from mock_norce.storage.database import Database
from mock_norce.world import builder, changes
from mock_norce.world.builder import INTEGRATION_USER, iso
from mock_norce.world.model import Model
from mock_norce.world.rows import Rows
from mock_norce.world.tables import clear_tables, create_tables, table_ddl

log = logging.getLogger("mock_norce.world")

YIELD_EVERY = 8  # events changed between two offers of the GIL (about 0.6 ms of work)

JOBS = """
CREATE TABLE IF NOT EXISTS w_jobs (
    JobId INTEGER PRIMARY KEY, StatusId INTEGER NOT NULL, Start REAL NOT NULL, Stop REAL, Seen REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS w_jobs_seen ON w_jobs(Seen);
"""

# What a prune deletes: the roots that carry `_seen`, then the rows that belong to them.
_PRUNE = (
    ("w_orders", "_seen < ?", (
        "DELETE FROM w_delivery_note_items WHERE DeliveryNoteId IN (SELECT Id FROM w_delivery_notes"
        " WHERE ReferenceOrderId IN ({ids}))",
        "DELETE FROM w_delivery_notes WHERE ReferenceOrderId IN ({ids})",
        "DELETE FROM w_invoice_items WHERE InvoiceId IN (SELECT Id FROM w_invoices WHERE ReferenceOrderId IN ({ids}))",
        "DELETE FROM w_invoices WHERE ReferenceOrderId IN ({ids})",
        "DELETE FROM w_order_items WHERE OrderId IN ({ids})",
        "DELETE FROM w_order_infos WHERE OrderId IN ({ids})",
        "DELETE FROM w_order_addresses WHERE Id IN (SELECT _buyer_address FROM w_orders WHERE Id IN ({ids}))",
        "DELETE FROM w_orders WHERE Id IN ({ids})",
    ), "Id"),
    ("w_customers", "_seen < ?", (
        "DELETE FROM w_customer_addresses WHERE CustomerId IN ({ids})",
        "DELETE FROM w_customer_companies WHERE CustomerId IN ({ids})",
        "DELETE FROM w_customers WHERE Id IN ({ids})",
    ), "Id"),
    ("w_companies", "_seen < ?", (
        "DELETE FROM w_company_addresses WHERE CompanyId IN ({ids})",
        "DELETE FROM w_customer_companies WHERE CompanyId IN ({ids})",
        "DELETE FROM w_companies WHERE Id IN ({ids})",
    ), "Id"),
)


class World:
    """The entities behind the ids, in their own SQLite file beside the delivery log's."""

    def __init__(self, model: Model, tenant: Tenant, database: Database, clock: Callable[[], float] = time.time):
        self.model = model
        self.tenant = tenant
        self.database = database
        self.clock = clock
        self.rows = Rows({t.name: t.table for ns in model.namespaces.values() for t in ns.types.values()})
        self.failures = 0  # events whose change failed (logged; delivery goes on)
        self.ids = builder.Sequences()  # order rows' and addresses' ids (read from the tables in prepare)

    # --- life ----------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the tables (idempotent) and the tenant's master data and assortment.

        Tables made from another model (an upgrade changed query-model.yaml) are dropped and
        made again: the world starts afresh rather than fail on a missing column."""
        version = hashlib.sha256("".join(table_ddl(t) for ns in self.model.namespaces.values()
                                         for t in ns.types.values()).encode()).hexdigest()
        with self.database.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS w_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            found = db.execute("SELECT value FROM w_meta WHERE key = 'model'").fetchone()
            if found is not None and found[0] != version:
                log.warning("the Query API's model changed: the world starts afresh")
                for ns in self.model.namespaces.values():
                    for t in ns.types.values():
                        db.execute(f"DROP TABLE IF EXISTS {t.table}")
            db.execute("INSERT OR REPLACE INTO w_meta(key, value) VALUES ('model', ?)", (version,))
            create_tables(db, self.model)
            self.ids = self._sequences(db)
            for statement in JOBS.split(";"):
                if statement.strip():
                    db.execute(statement)  # not executescript: it would commit the transaction
            self._seed(db, self.clock())

    def clear(self) -> None:
        """Forget every entity (with the log, between tests): back to the tenant's world."""
        with self.database.transaction() as db:
            clear_tables(db, self.model)
            self.ids = builder.Sequences()
            db.execute("DELETE FROM w_jobs")
            self._seed(db, self.clock())

    def prune(self, older_than: float, chunk: int = 2000) -> int:
        """Drop entities no event has named since `older_than` (the retention of the log)."""
        removed = 0
        for table, where, deletes, key in _PRUNE:
            with self.database.transaction() as db:
                ids = [r[0] for r in db.execute(f"SELECT {key} FROM {table} WHERE {where} LIMIT ?",
                                                (older_than, chunk))]
                if ids:
                    marks = ",".join("?" * len(ids))
                    for sql in deletes:
                        db.execute(sql.format(ids=marks), ids)
                removed += len(ids)
        with self.database.transaction() as db:
            removed += db.execute("DELETE FROM w_jobs WHERE Seen < ?", (older_than,)).rowcount
            skus = [r[0] for r in db.execute("SELECT PartNo FROM w_skus WHERE _seen < ? LIMIT ?", (older_than, chunk))
                    if self.tenant.sku(r[0]) is None]  # the assortment stays
            for part_no in skus:
                for table in ("w_sku_prices", "w_sku_onhand", "w_skus"):
                    db.execute(f"DELETE FROM {table} WHERE PartNo = ?", (part_no,))
            removed += len(skus)
            supplier = db.execute("SELECT PartNo, SupplierId FROM w_supplier_skus WHERE _seen < ? LIMIT ?",
                                  (older_than, chunk)).fetchall()
            for key in supplier:
                if self.tenant.sku(key[0]) is not None:
                    continue
                for table in ("w_supplier_prices", "w_supplier_onhand", "w_supplier_skus"):
                    db.execute(f"DELETE FROM {table} WHERE PartNo = ? AND SupplierId = ?", key)
                removed += 1
        return removed

    def _sequences(self, db: sqlite3.Connection) -> builder.Sequences:
        last = {kind: db.execute(f"SELECT coalesce(max(Id), 0) FROM {self.rows.tables[name]}").fetchone()[0]
                for kind, name in (("order_item", "OrderItem"), ("address", "Address"))}
        return builder.Sequences(last)

    # --- changes -------------------------------------------------------------------------

    def record(self, payloads: Iterable, now: float) -> None:
        """Change the world as the events about to be recorded say (one transaction).

        A failure of one event's change is logged and counted, never allowed to stop its
        delivery: the event is what the user asked for, the world is what we add to it. A
        failure of the storage (full, locked) raises: the events are refused.
        """
        with self.database.transaction() as db:
            self._record(db, payloads, now)

    def _record(self, db: sqlite3.Connection, payloads: Iterable, now: float) -> None:
        payloads = list(payloads)
        def all_at_once():
            for n, p in enumerate(payloads, start=1):
                changes.apply(self.tenant, self.rows, db, now, p.event_type, p.body, p.facts, self.ids)
                if n % YIELD_EVERY == 0:
                    time.sleep(0)  # let the timer and the senders have the GIL: they are due now
        try:  # all at once; only if one of them fails, again one by one, each in its savepoint
            with_savepoint(db, all_at_once)
            return
        except sqlite3.DatabaseError as exc:
            if _storage_failure(exc):
                raise
        except Exception:  # noqa: BLE001 - found again below, event by event, and reported there
            pass
        for payload in payloads:
            try:
                with_savepoint(db, lambda: changes.apply(self.tenant, self.rows, db, now, payload.event_type,
                                                         payload.body, payload.facts, self.ids))
            except sqlite3.DatabaseError as exc:
                if _storage_failure(exc):
                    raise  # the disk or the lock: the transaction fails and the outbox says so
                self.failures += 1
                log.exception("the world could not follow a %s event", payload.event_type)
            except Exception:  # noqa: BLE001 - a bug here must not lose the event
                self.failures += 1
                log.exception("the world could not follow a %s event", payload.event_type)

    # --- reading -------------------------------------------------------------------------

    def order(self, order_id: int) -> dict | None:
        """The facts of an order that its events carry, or None."""
        with self.database.reader() as db:
            row = db.execute("SELECT Id, StatusId, _market, ApplicationId, _facts FROM w_orders WHERE Id = ?",
                             (order_id,)).fetchone()
        if row is None:
            return None
        facts = json.loads(row[4] or "{}")
        return {"OrderId": row[0], "StatusId": row[1], "market": row[2], "ApplicationId": row[3], **facts}

    def job(self, job_id: int) -> dict | None:
        with self.database.reader() as db:
            row = db.execute("SELECT JobId, StatusId, Start, Stop FROM w_jobs WHERE JobId = ?", (job_id,)).fetchone()
        return None if row is None else {"JobId": row[0], "StatusId": row[1], "Start": row[2], "Stop": row[3]}

    def counts(self) -> dict[str, int]:
        """Rows per entity set (for /api/world)."""
        out = {}
        with self.database.reader() as db:
            for ns in self.model.namespaces.values():
                for t in ns.types.values():
                    out[f"{ns.name}/{t.set_name}"] = db.execute(f"SELECT count(*) FROM {t.table}").fetchone()[0]
        return out

    # --- the tenant's master data ------------------------------------------------------------

    def _seed(self, db: sqlite3.Connection, now: float) -> None:
        t, stamp, user = self.tenant, iso(now), INTEGRATION_USER
        rows: dict[str, list[dict]] = {k: [] for k in (
            "Application", "Currency", "Country", "PriceList", "ClientPriceList", "ApplicationPriceList",
            "ClientWarehouse", "WarehouseLocation", "ClientSupplier", "ApplicationCulture", "ClientCurrency")}
        seen_currency, seen_country = set(), set()
        for m in t.markets:
            rows["Application"].append({"Id": m.application_id, "ClientId": t.client_id, "Name": f"{t.client_name} {m.name}",
                                        "DefaultCultureCode": m.culture, "DefaultCurrencyId": m.currency_id,
                                        "CountryId": m.country_id, "IsActive": 1})
            rows["ApplicationCulture"].append({"ApplicationId": m.application_id, "CultureCode": m.culture, "IsDefault": 1})
            if m.currency_id is not None and m.currency_id not in seen_currency:
                seen_currency.add(m.currency_id)
                rows["Currency"].append({"Id": m.currency_id, "Code": m.currency, "Name": m.currency})
                rows["ClientCurrency"].append({"CurrencyId": m.currency_id, "ClientId": t.client_id, "IsActive": 1})
            if m.country_id is not None and m.country_id not in seen_country:
                seen_country.add(m.country_id)
                rows["Country"].append({"Id": m.country_id, "Code": m.code, "Name": m.country_name})
            for i, pl in enumerate(m.price_lists):
                rows["PriceList"].append({"Id": pl.id, "DefaultName": pl.code, "DefaultDescription": None,
                                          "Agreement": pl.code, "StartDate": None, "EndDate": None,
                                          "IsPublic": int(i == 0), "IsLimitedToStock": 0, "IsBid": 0, "IsActive": 1,
                                          "Created": stamp, "CreatedBy": user})
                rows["ClientPriceList"].append({"PriceListId": pl.id, "ClientId": t.client_id, "CurrencyId": m.currency_id,
                                                "IsActive": 1, "Created": stamp, "CreatedBy": user})
                rows["ApplicationPriceList"].append({"ApplicationId": m.application_id, "PriceListId": pl.id,
                                                     "IsDefault": int(i == 0), "IsActive": 1})
        for w in t.warehouses:
            rows["ClientWarehouse"].append({"Id": w.id, "ClientId": t.client_id, "Code": w.code, "Name": w.name,
                                            "IsActive": 1, "Created": stamp, "CreatedBy": user})
            rows["WarehouseLocation"] += [{"Id": loc.id, "WarehouseId": w.id, "Code": loc.code, "IsActive": 1}
                                          for loc in w.locations]
        rows["ClientSupplier"] = [{"Id": s.id, "ClientId": t.client_id, "Code": s.code, "Name": s.name, "IsActive": 1,
                                   "Created": stamp, "CreatedBy": user} for s in t.suppliers]
        self.rows.insert_all(db, rows)
        for sku in t.skus:
            self.rows.insert_all(db, builder.new_sku(t, sku.part_no, now))
            if sku.supplier_id is not None:
                self.rows.insert_all(db, builder.new_supplier_sku(t, sku.supplier_part_no, sku.supplier_id, now))


# SQLite's primary result codes that mean the storage, not the statement, failed.
_STORAGE_CODES = {5, 6, 8, 10, 11, 13, 14, 26}  # BUSY LOCKED READONLY IOERR CORRUPT FULL CANTOPEN NOTADB


def _storage_failure(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is None or (code & 0xFF) in _STORAGE_CODES


def with_savepoint(db: sqlite3.Connection, work: Callable[[], object]) -> None:
    """Run work so that a failure undoes its writes only, not the rest of the transaction."""
    db.execute("SAVEPOINT world_change")
    try:
        work()
    except BaseException:
        db.execute("ROLLBACK TO world_change")
        db.execute("RELEASE world_change")
        raise
    db.execute("RELEASE world_change")
