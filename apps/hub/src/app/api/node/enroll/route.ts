import { ApiError, enrollNode, httpStatusOf } from "@pathx/api";
import { type NodeAnswerInput, nodeRoutes } from "@pathx/protocol";
import { getDeps } from "@/server/deps";
import { checkNodeProtocol, nodeJson } from "@/server/node-api";
import { withRequestOrigin } from "@/server/request-origin";
import { readSmallJson } from "@/server/request-body";

/** A node exchanges its one-time enrolment token for its own credential (the token is its only authentication: the body is kept small). */
export async function POST(request: Request) {
  try {
    checkNodeProtocol(request);
    const body = nodeRoutes.enroll.body.safeParse(await readSmallJson(request, 4096));
    if (!body.success) return nodeJson({ error: "An enrolment token is required." }, { status: 400 });
    const { db } = await getDeps();
    const answer: NodeAnswerInput<"enroll"> = await withRequestOrigin(() =>
      enrollNode(db, body.data.token, { name: body.data.name ?? "", version: body.data.version }),
    );
    return nodeJson(answer);
  } catch (error) {
    if (error instanceof ApiError) return nodeJson({ error: error.message }, { status: httpStatusOf(error) });
    throw error;
  }
}
