import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";

/**
 * The field names selected at `path` below the current field (following fragments), e.g.
 * `selectedFields(info, ["edges", "node"])` on `orders` gives the Order fields asked for. Used to
 * plan loads from the query instead of loading everything or loading lazily one field at a time.
 */
export function selectedFields(info: Pick<GraphQLResolveInfo, "fieldNodes" | "fragments">, path: string[]): Set<string> {
  let level: SelectionSetNode[] = info.fieldNodes.map((f) => f.selectionSet).filter((s): s is SelectionSetNode => !!s);
  for (const name of path) {
    level = fieldsOf(level, info)
      .filter((f) => f.name.value === name)
      .map((f) => f.selectionSet)
      .filter((s): s is SelectionSetNode => !!s);
  }
  return new Set(fieldsOf(level, info).map((f) => f.name.value));
}

function fieldsOf(sets: SelectionSetNode[], info: Pick<GraphQLResolveInfo, "fragments">): FieldNode[] {
  const out: FieldNode[] = [];
  const visit = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) out.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) visit(s.selectionSet);
      else if (s.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = info.fragments[s.name.value];
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  sets.forEach(visit);
  return out;
}
