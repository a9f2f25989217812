"""The CSDL ($metadata) of one namespace, generated from the model, per version.

Clients reflect on it (python-odata builds its entity classes from it), so it must be real
OData v4 CSDL: the EDMX 4.0 envelope and the v4 edm namespace, an EntityContainer, every
EntitySet with its NavigationPropertyBindings. 2.0 uses the Enferno.Storm schema names and
PascalCase, 3.0 the Norce.Query names and camelCase (the model has both). A
ReferentialConstraint is written on single-valued navigations whose columns are all real
properties (the dependent side, where CSDL puts it): ``OrderItem.Order`` has
``OrderId -> Id``; internal ``_`` columns never appear.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from mock_norce.world.model import EntityType, Namespace, wire_name

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
CONTAINER = "Container"


def document(ns: Namespace, version: str) -> str:
    schema = ns.schemas[version]
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<edmx:Edmx Version="4.0" xmlns:edmx="{EDMX}">',
             "  <edmx:DataServices>",
             f'    <Schema Namespace={quoteattr(schema)} xmlns="{EDM}">']
    for entity in ns.types.values():
        lines.extend(_entity_type(ns, entity, schema, version))
    lines.append(f'      <EntityContainer Name="{CONTAINER}">')
    for entity in ns.types.values():
        qualified = f"{schema}.{entity.type_name(version)}"
        bindings = [f'          <NavigationPropertyBinding Path="{wire_name(nav.name, version)}" '
                    f'Target="{ns.types[nav.target].set_name}"/>' for nav in entity.navigation.values()]
        if bindings:
            lines.append(f'        <EntitySet Name="{entity.set_name}" EntityType={quoteattr(qualified)}>')
            lines.extend(bindings)
            lines.append("        </EntitySet>")
        else:
            lines.append(f'        <EntitySet Name="{entity.set_name}" EntityType={quoteattr(qualified)}/>')
    lines += ["      </EntityContainer>", "    </Schema>", "  </edmx:DataServices>", "</edmx:Edmx>", ""]
    return "\n".join(lines)


def _entity_type(ns: Namespace, entity: EntityType, schema: str, version: str) -> list[str]:
    lines = [f'      <EntityType Name="{entity.type_name(version)}">', "        <Key>"]
    lines += [f'          <PropertyRef Name="{wire_name(k, version)}"/>' for k in entity.key]
    lines.append("        </Key>")
    for prop in entity.properties.values():
        facets = "" if prop.nullable else ' Nullable="false"'
        if prop.type == "Decimal":
            facets += ' Scale="variable"'
        lines.append(f'        <Property Name="{wire_name(prop.name, version)}" Type="Edm.{prop.type}"{facets}/>')
    for nav in entity.navigation.values():
        target = ns.types[nav.target]
        qualified = f"{schema}.{target.type_name(version)}"
        type_ = f"Collection({qualified})" if nav.many else qualified
        name = wire_name(nav.name, version)
        real = all(c in entity.properties for c in nav.local) and all(c in target.properties for c in nav.remote)
        if nav.many or not real:
            lines.append(f'        <NavigationProperty Name="{name}" Type={quoteattr(type_)}/>')
            continue
        lines.append(f'        <NavigationProperty Name="{name}" Type={quoteattr(type_)}>')
        lines += [f'          <ReferentialConstraint Property="{wire_name(local, version)}" '
                  f'ReferencedProperty="{wire_name(remote, version)}"/>' for local, remote in nav.on]
        lines.append("        </NavigationProperty>")
    lines.append("      </EntityType>")
    return lines
